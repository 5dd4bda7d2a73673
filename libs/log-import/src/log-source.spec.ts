import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LogFormatError } from './column-mapping';
import { formatFromName, openLogFile } from './log-source';

describe('openLogFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'log-source-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function text(path: string): Promise<string> {
    let out = '';
    for await (const chunk of openLogFile(path).chunks) out += chunk as string;
    return out;
  }

  it('reads a file as UTF-8 text, multi-byte characters intact across chunks', async () => {
    const content = 'case,activity\n' + 'c,Prüfung 顧客 🧾\n'.repeat(20_000);
    writeFileSync(join(dir, 'a.csv'), content);
    const source = openLogFile(join(dir, 'a.csv'));
    expect(source).toMatchObject({ name: 'a.csv', totalBytes: Buffer.byteLength(content) });
    expect(await text(join(dir, 'a.csv'))).toBe(content);
  });

  it('decompresses .gz on the fly and counts compressed bytes as progress', async () => {
    const content = 'case,activity\n' + 'c,a\n'.repeat(50_000);
    const gz = gzipSync(content);
    writeFileSync(join(dir, 'a.csv.gz'), gz);
    const source = openLogFile(join(dir, 'a.csv.gz'));
    let out = '';
    for await (const chunk of source.chunks) out += chunk as string;
    expect(out).toBe(content);
    expect(source.bytesRead()).toBe(gz.length);
  });

  it('names a missing file', () => {
    expect(() => openLogFile(join(dir, 'nope.csv'))).toThrow(LogFormatError);
    expect(() => openLogFile(join(dir, 'nope.csv'))).toThrow(/ENOENT/);
    expect(() => openLogFile(dir)).toThrow(/is not a file/);
  });
});

describe('formatFromName', () => {
  it.each([
    ['log.csv', 'csv'],
    ['LOG.TSV', 'csv'],
    ['log.xes', 'xes'],
    ['log.xes.gz', 'xes'],
    ['log.xml', 'xes'],
    ['log.json', undefined],
  ])('%s → %s', (name, format) => {
    expect(formatFromName(name)).toBe(format);
  });
});
