import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LogFormatError } from './column-mapping';

export type LogFormat = 'csv' | 'xes';

/** A log file as text chunks, with how far into the file reading has got. */
export interface LogSource {
  /** UTF-8 text in chunks of at most `CHUNK_BYTES` (multi-byte characters are never split). */
  chunks: AsyncIterable<string>;
  /** File bytes consumed so far (compressed bytes for `.gz`). */
  bytesRead(): number;
  /** Size of the file; undefined for standard input. */
  totalBytes?: number;
  /** File name without directories, the default source id. */
  name: string;
}

const CHUNK_BYTES = 64 * 1024;

/** Opens a log file (`.gz` is decompressed on the fly), or standard input for `-`. */
export function openLogFile(path: string): LogSource {
  if (path === '-') {
    process.stdin.setEncoding('utf8');
    return { chunks: process.stdin, bytesRead: () => process.stdin.bytesRead, name: 'stdin' };
  }
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new LogFormatError(`${path} is not a file`);
    size = stat.size;
  } catch (err) {
    if (err instanceof LogFormatError) throw err;
    throw new LogFormatError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  let text: Readable = file;
  if (path.toLowerCase().endsWith('.gz')) text = file.pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
  text.setEncoding('utf8');
  if (text !== file) file.on('error', (err) => text.destroy(err));
  return { chunks: text, bytesRead: () => file.bytesRead, totalBytes: size, name: basename(path) };
}

/** The format a file name implies (`.csv` `.tsv` `.txt` / `.xes` `.xml`, optionally `.gz`). */
export function formatFromName(path: string): LogFormat | undefined {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (/\.(csv|tsv|txt)$/.test(name)) return 'csv';
  if (/\.(xes|xml)$/.test(name)) return 'xes';
  return undefined;
}
