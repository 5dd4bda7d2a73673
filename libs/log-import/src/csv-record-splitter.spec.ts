import { CsvRecordSplitter, detectDelimiter } from './csv-record-splitter';

function split(text: string, chunkSize: number, maxRecordBytes?: number) {
  const splitter = new CsvRecordSplitter(maxRecordBytes);
  let out = '';
  const unclosed: { line: number; message: string }[] = [];
  for (let i = 0; i < text.length; i += chunkSize) {
    const r = splitter.push(text.slice(i, i + chunkSize));
    out += r.text;
    unclosed.push(...r.unclosed);
  }
  const r = splitter.end();
  unclosed.push(...r.unclosed);
  return { text: out + r.text, unclosed, firstLine: splitter.firstLine };
}

describe('CsvRecordSplitter', () => {
  it.each([1, 3, 1000])('hands on well-formed text unchanged (chunks of %i)', (size) => {
    const text = 'a,b\n1,"x\ny"\n2,"q""q"\r\n3,z';
    const r = split(text, size);
    expect(r.text).toBe(text);
    expect(r.unclosed).toEqual([]);
    expect(r.firstLine).toBe('a,b');
  });

  it('blanks an unclosed record at the end of the file and reads the lines after it again', () => {
    const r = split('a,b\n1,"open\n2,x\n3,y\n', 4);
    expect(r.unclosed).toEqual([{ line: 2, message: expect.stringContaining('never closed') }]);
    // Line 2 became empty, so the lines below keep their numbers.
    expect(r.text).toBe('a,b\n\n2,x\n3,y\n');
  });

  it('gives up on a record still open after maxRecordBytes and resynchronises', () => {
    const lines = ['a,b', '1,"open'];
    for (let i = 0; i < 50; i++) lines.push(`${i},row`);
    lines.push('9,"fine"');
    const r = split(`${lines.join('\n')}\n`, 7, 64);
    expect(r.unclosed.map((u) => u.line)).toEqual([2]);
    expect(r.text.split('\n')).toEqual(['a,b', '', ...lines.slice(2), '']);
  });

  it('keeps a quoted field that spans lines within the bound', () => {
    const r = split('a,b\n1,"line one\nline two"\n2,x\n', 5, 1024);
    expect(r.unclosed).toEqual([]);
    expect(r.text).toBe('a,b\n1,"line one\nline two"\n2,x\n');
  });
});

describe('detectDelimiter', () => {
  it.each([
    ['case,activity,time', ','],
    ['case;activity;time', ';'],
    ['case\tactivity\ttime', '\t'],
    ['case|activity|time', '|'],
    ['"a,b";c;d', ';'],
    ['single', ','],
  ])('%j → %j', (header, delimiter) => {
    expect(detectDelimiter(header)).toBe(delimiter);
  });
});
