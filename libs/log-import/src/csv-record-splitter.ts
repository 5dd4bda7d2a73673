/** A record the splitter took out of the text: a quote in it was never closed, or a line too long to be an event. */
export interface UnclosedRecord {
  /** 1-based line where the record starts. */
  line: number;
  message: string;
  /** Why; `unclosed_quote` when left out. */
  reason?: 'unclosed_quote' | 'too_large';
}

/** What one `push`/`end` hands on: text to parse, and records taken out of it. */
export interface SplitOutput {
  text: string;
  unclosed: UnclosedRecord[];
}

/**
 * Stands between the file and csv-parse so that one bad quote cannot swallow the rest of a file.
 * A quoted field may span lines, so after an odd number of `"` the record continues on the next
 * line; csv-parse would keep reading such a record to the end of the file (holding it all in
 * memory) and cannot resynchronise. Here a record still open after `maxRecordBytes`, or at the
 * end of the input, is reported and replaced by an empty line (so csv-parse's line numbers stay
 * those of the file), and the lines after its first are read again as records of their own.
 * The text handed on always holds complete lines with balanced quotes.
 */
export class CsvRecordSplitter {
  /** Lines of a record whose quote is still open, starting with its first. */
  private open: string[] = [];
  private openBytes = 0;
  private openLine = 0;
  /** Text after the last newline seen, in pieces (joined once its line is complete). */
  private tail: string[] = [];
  private tailLength = 0;
  /** Reading past a line over `maxLineChars`: the rest of it up to its newline is dropped. */
  private dropping = false;
  /** Lines handed on or dropped so far. */
  private lines = 0;
  private header?: string;

  /**
   * @param maxRecordBytes a quoted field still open after this much text is reported as unclosed
   * @param maxLineChars a line longer than this is dropped without being held (no event this large
   *   could be sent: the contract caps one at 1 MB)
   */
  constructor(
    private readonly maxRecordBytes = 64 * 1024,
    private readonly maxLineChars = 1024 * 1024,
  ) {}

  /** The first line of the input, once it is complete (for delimiter detection). */
  get firstLine(): string | undefined {
    return this.header;
  }

  push(chunk: string): SplitOutput {
    const out: string[] = [];
    const unclosed: UnclosedRecord[] = [];
    let from = 0;
    if (this.dropping) {
      const newline = chunk.indexOf('\n');
      if (newline === -1) return { text: '', unclosed };
      // The dropped line stands as an empty one, so the lines after it keep their numbers.
      this.dropping = false;
      this.takeLine('\n', out, unclosed);
      from = newline + 1;
    }
    // Only the new chunk is searched: a long line arriving in many chunks is never scanned twice.
    const lastNewline = chunk.lastIndexOf('\n');
    if (lastNewline < from) {
      this.addToTail(from === 0 ? chunk : chunk.slice(from), unclosed);
      return { text: out.join(''), unclosed };
    }
    const head = chunk.slice(from, lastNewline + 1);
    const complete = this.tailLength > 0 ? this.tail.join('') + head : head;
    this.tail = [];
    this.tailLength = 0;
    if (lastNewline + 1 < chunk.length) this.addToTail(chunk.slice(lastNewline + 1), unclosed);
    if (this.header === undefined) this.header = complete.slice(0, complete.indexOf('\n'));
    // Fast path: no quote anywhere and none open means every line is a record as it stands.
    if (this.open.length === 0 && complete.indexOf('"') === -1) {
      this.lines += countNewlines(complete);
      out.push(complete);
      return { text: out.length === 1 ? complete : out.join(''), unclosed };
    }
    let start = 0;
    while (start < complete.length) {
      const end = complete.indexOf('\n', start) + 1;
      this.takeLine(complete.slice(start, end), out, unclosed);
      start = end;
    }
    return { text: out.join(''), unclosed };
  }

  /** Flushes the last line (even without a final newline) and any record left open. */
  end(): SplitOutput {
    const out: string[] = [];
    const unclosed: UnclosedRecord[] = [];
    this.dropping = false;
    if (this.tailLength > 0) {
      const last = this.tail.join('');
      this.tail = [];
      this.tailLength = 0;
      if (this.header === undefined) this.header = last;
      this.takeLine(last, out, unclosed);
    }
    while (this.open.length > 0) this.dropOpen(out, unclosed, 'the file ends inside it');
    return { text: out.join(''), unclosed };
  }

  /**
   * The input was cut: drops what the cut left incomplete (the partial last line, a record whose
   * quote is still open) and returns the line where that starts; undefined when nothing was cut.
   */
  cut(): number | undefined {
    let line: number | undefined;
    if (this.open.length > 0) line = this.openLine;
    else if (this.tailLength > 0 || this.dropping) line = this.lines + 1;
    this.open = [];
    this.openBytes = 0;
    this.tail = [];
    this.tailLength = 0;
    this.dropping = false;
    return line;
  }

  /** Holds the start of an unfinished line; one longer than `maxLineChars` is dropped as it comes. */
  private addToTail(piece: string, unclosed: UnclosedRecord[]): void {
    this.tail.push(piece);
    this.tailLength += piece.length;
    if (this.tailLength <= this.maxLineChars) return;
    const line = this.lines + 1;
    unclosed.push({ line, reason: 'too_large', message: `the line is longer than ${this.maxLineChars} characters: no event can hold it` });
    this.tail = [];
    this.tailLength = 0;
    this.dropping = true;
  }

  private takeLine(line: string, out: string[], unclosed: UnclosedRecord[]): void {
    const oddQuotes = countQuotes(line) % 2 === 1;
    if (this.open.length === 0) {
      this.lines++;
      if (!oddQuotes) {
        out.push(line);
        return;
      }
      this.open.push(line);
      this.openBytes = line.length;
      this.openLine = this.lines;
      return;
    }
    this.lines++;
    this.open.push(line);
    this.openBytes += line.length;
    if (oddQuotes) {
      out.push(this.open.join(''));
      this.open = [];
      this.openBytes = 0;
    } else if (this.openBytes > this.maxRecordBytes) {
      this.dropOpen(out, unclosed, `still open after ${this.maxRecordBytes} bytes`);
    }
  }

  /** Reports the open record's first line, blanks it, and reads its other lines again. */
  private dropOpen(out: string[], unclosed: UnclosedRecord[], why: string): void {
    const [first, ...rest] = this.open;
    unclosed.push({ line: this.openLine, message: `a quoted field is never closed (${why})` });
    this.open = [];
    this.openBytes = 0;
    this.lines = this.openLine;
    out.push(first.endsWith('\n') ? '\n' : '');
    for (const line of rest) this.takeLine(line, out, unclosed);
  }
}

function countQuotes(line: string): number {
  let n = 0;
  for (let i = line.indexOf('"'); i !== -1; i = line.indexOf('"', i + 1)) n++;
  return n;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** The likeliest field delimiter of a header line: the most frequent of `,` `;` tab `|` outside quotes. */
export function detectDelimiter(headerLine: string): string {
  const counts = new Map<string, number>([
    [',', 0],
    [';', 0],
    ['\t', 0],
    ['|', 0],
  ]);
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ',';
  let bestCount = 0;
  for (const [delimiter, count] of counts) {
    if (count > bestCount) {
      best = delimiter;
      bestCount = count;
    }
  }
  return best;
}
