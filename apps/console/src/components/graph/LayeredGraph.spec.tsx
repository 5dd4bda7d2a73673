/** @jest-environment jest-fixed-jsdom */
import { MantineProvider } from '@mantine/core';
import { render, screen, waitFor } from '@testing-library/react';
import { LayeredGraph } from './LayeredGraph';
import { layoutGraph } from './layout';

describe('LayeredGraph', () => {
  it('lays nodes out left to right, parallel ones in the same column', async () => {
    const positions = await layoutGraph(
      [
        { id: 'a', width: 120, height: 56, layer: 0 },
        { id: 'b', width: 120, height: 56, layer: 1 },
        { id: 'c', width: 160, height: 56, layer: 1 },
        { id: 'd', width: 120, height: 56, layer: 2 },
      ],
      [
        { id: '1', source: 'a', target: 'b' },
        { id: '2', source: 'a', target: 'c' },
        { id: '3', source: 'b', target: 'd' },
        { id: '4', source: 'c', target: 'd' },
        { id: '5', source: 'a', target: 'ghost' },
      ],
    );
    const x = (id: string) => positions.get(id)!.x;
    expect(x('a')).toBeLessThan(x('b'));
    // Same column: their horizontal extents overlap (ELK centres nodes of different widths).
    expect(x('b')).toBeLessThan(x('c') + 160);
    expect(x('c')).toBeLessThan(x('b') + 120);
    expect(positions.get('b')!.y).not.toBe(positions.get('c')!.y);
    expect(Math.max(x('b') + 120, x('c') + 160)).toBeLessThan(x('d'));
  });

  it('draws the labelled nodes and edges inside a labelled container', async () => {
    render(
      <MantineProvider>
        <LayeredGraph label="Learned workflow" nodes={[{ id: 'a', label: 'clone', sublabel: 'git.clone' }, { id: 'b', label: 'lint', tone: 'failed' }]} edges={[{ id: 'e', source: 'a', target: 'b', label: 'dir', dashed: true }]} />
      </MantineProvider>,
    );
    const group = screen.getByRole('group', { name: 'Learned workflow' });
    await waitFor(() => expect(group.textContent).toContain('git.clone'));
    expect(group.textContent).toContain('lint');
  });

  it('draws the edges in its first render (no measuring), those left out of the layout too', async () => {
    const { container } = render(
      <MantineProvider>
        <LayeredGraph
          label="Dense map"
          nodes={[{ id: 'a', label: 'a' }, { id: 'b', label: 'b' }, { id: 'c', label: 'c' }]}
          edges={[
            { id: 'ab', source: 'a', target: 'b' },
            { id: 'bc', source: 'b', target: 'c' },
            { id: 'ac', source: 'a', target: 'c', layout: false },
          ]}
        />
      </MantineProvider>,
    );
    // jsdom measures nothing: without the nodes' sizes and handles given, no edge would be drawn.
    await waitFor(() => expect(container.querySelectorAll('.react-flow__node')).toHaveLength(3));
    expect([...container.querySelectorAll('.react-flow__edge')].map((e) => e.getAttribute('data-id')).sort()).toEqual(['ab', 'ac', 'bc']);
  });
});
