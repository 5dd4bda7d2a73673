import { Group, NativeSelect, Text } from '@mantine/core';
import type { ApiSchemas } from '@toolpath/api-client';
import { useMemo, useState } from 'react';
import { lineDiff, sideBySide, type DiffRow } from './lineDiff';

type WorkflowVersion = ApiSchemas['WorkflowVersion'];

/**
 * The definition as JSON, without what is not an edit: the version's number and dates, and the
 * workflow's id (the same in every version, but stored at a different place in the object
 * depending on how the version was written, so it would show as a moved line).
 */
export function definitionText(v: WorkflowVersion): string {
  const { version: _version, createdAt: _createdAt, updatedAt: _updatedAt, id: _id, ...definition } = v;
  return JSON.stringify(definition, null, 2);
}

// Light fills with dark text (contrast above 4.5:1); the −/+ marks say the same without colour.
const FILL: Record<DiffRow['kind'], { left?: string; right?: string }> = {
  same: {},
  removed: { left: '#ffe3e3' },
  added: { right: '#d3f9d8' },
  changed: { left: '#ffe3e3', right: '#d3f9d8' },
};

const cell = { fontFamily: 'monospace', fontSize: 12, whiteSpace: 'pre-wrap' as const, wordBreak: 'break-all' as const, padding: '0 6px', verticalAlign: 'top' as const, color: '#212529' };
const number = { ...cell, color: '#495057', textAlign: 'right' as const, userSelect: 'none' as const, width: 36 };

/** Two versions of a workflow side by side, older on the left; pick any two from `versions` (newest first). */
export function VersionDiff({ versions }: { versions: WorkflowVersion[] }) {
  const [left, setLeft] = useState(String(versions[1]?.version ?? versions[0]?.version ?? ''));
  const [right, setRight] = useState(String(versions[0]?.version ?? ''));
  const a = versions.find((v) => String(v.version) === left);
  const b = versions.find((v) => String(v.version) === right);
  const rows = useMemo(() => (a && b ? sideBySide(lineDiff(definitionText(a), definitionText(b))) : []), [a, b]);
  const changes = rows.filter((r) => r.kind !== 'same').length;
  const options = versions.map((v) => ({ value: String(v.version), label: `version ${v.version} (${new Date(v.createdAt).toLocaleString()})` }));

  return (
    <div>
      <Group align="end" mb="sm">
        <NativeSelect label="Compare version" data={options} value={left} onChange={(e) => setLeft(e.currentTarget.value)} />
        <NativeSelect label="with version" data={options} value={right} onChange={(e) => setRight(e.currentTarget.value)} />
        <Text size="sm" aria-live="polite">
          {a && b ? (changes === 0 ? 'No difference' : changes === 1 ? '1 line differs' : `${changes} lines differ`) : ''}
        </Text>
      </Group>
      {a && b && (
        // A region that scrolls must be reachable by keyboard (focusable, named) to be scrolled without a mouse.
        <div tabIndex={0} role="region" aria-label="Differences, side by side" style={{ maxHeight: 480, overflow: 'auto', border: '1px solid #dee2e6', borderRadius: 4 }}>
          <table style={{ borderCollapse: 'collapse', width: '100%', tableLayout: 'fixed' }} aria-label={`Differences between version ${a.version} and version ${b.version}`}>
            <colgroup>
              <col style={{ width: 40 }} />
              <col />
              <col style={{ width: 40 }} />
              <col />
            </colgroup>
            <thead>
              <tr>
                <th scope="col" style={number}>
                  #
                </th>
                <th scope="col" style={{ ...cell, textAlign: 'left' }}>
                  version {a.version}
                </th>
                <th scope="col" style={number}>
                  #
                </th>
                <th scope="col" style={{ ...cell, textAlign: 'left' }}>
                  version {b.version}
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i} data-kind={r.kind}>
                  <td style={number}>{r.left?.n}</td>
                  <td style={{ ...cell, background: FILL[r.kind].left }}>{r.left ? (r.kind === 'same' ? '  ' : '− ') + r.left.text : ''}</td>
                  <td style={number}>{r.right?.n}</td>
                  <td style={{ ...cell, background: FILL[r.kind].right }}>{r.right ? (r.kind === 'same' ? '  ' : '+ ') + r.right.text : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
