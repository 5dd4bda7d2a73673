import { processMapGraph } from './processMapGraph';

const edge = (from: string, to: string, count: number) => ({ from, to, count, meanGapMs: 1500, p95GapMs: 4000 });

describe('processMapGraph', () => {
  it('draws the most frequent tools, their loops in the sublabel, and lays a sparse map out along every edge', () => {
    const { nodes, edges } = processMapGraph(
      {
        activities: [
          { tool: 'git.clone', count: 12 },
          { tool: 'npm.test', count: 15 },
          { tool: 'rare', count: 1 },
        ],
        edges: [edge('git.clone', 'npm.test', 11), edge('npm.test', 'npm.test', 3), edge('npm.test', 'rare', 1)],
      },
      2,
    );
    expect(nodes.map((n) => [n.id, n.sublabel])).toEqual([
      ['git.clone', '12 calls'],
      ['npm.test', '15 calls · repeats 3'],
    ]);
    expect(edges).toEqual([{ id: 'git.clone->npm.test', source: 'git.clone', target: 'npm.test', label: '11 · 1.5 s' }]);
  });

  it('lays a dense map out along each tool\'s two most frequent ways out and its most frequent way in, and draws every edge', () => {
    // 8 tools, each followed by every later one: 28 edges, more than 3 per tool; the nearer, the more frequent.
    const tools = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const all = tools.flatMap((from, i) => tools.slice(i + 1).map((to, j) => edge(from, to, 100 - j)));
    const { edges } = processMapGraph({ activities: tools.map((tool) => ({ tool, count: 10 })), edges: all }, 40);
    expect(edges).toHaveLength(28);
    const laidOut = edges.filter((e) => e.layout !== false).map((e) => e.id);
    // Out: the two nearest; in: the nearest (already among them).
    expect(laidOut.sort()).toEqual(['a->b', 'a->c', 'b->c', 'b->d', 'c->d', 'c->e', 'd->e', 'd->f', 'e->f', 'e->g', 'f->g', 'f->h', 'g->h']);
    expect(edges.filter((e) => e.layout === false).map((e) => e.id)).toContain('a->h');
  });
});
