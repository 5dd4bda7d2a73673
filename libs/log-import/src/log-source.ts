import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LogFormatError, LogTruncatedError } from './column-mapping';

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
  /** Stops reading and releases the file. */
  close(): void;
}

const CHUNK_BYTES = 64 * 1024;

/** Opens a log file (`.gz` is decompressed on the fly), or standard input for `-`. */
export function openLogFile(path: string): LogSource {
  if (path === '-') {
    process.stdin.setEncoding('utf8');
    return { chunks: process.stdin, bytesRead: () => process.stdin.bytesRead, name: 'stdin', close: () => undefined };
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
  const close = (): void => {
    file.destroy();
  };
  if (!path.toLowerCase().endsWith('.gz')) {
    file.setEncoding('utf8');
    return { chunks: file, bytesRead: () => file.bytesRead, totalBytes: size, name: basename(path), close };
  }
  const text = file.pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
  text.setEncoding('utf8');
  file.on('error', (err) => text.destroy(err));
  return {
    chunks: gunzipped(text, () => file.bytesRead),
    bytesRead: () => file.bytesRead,
    totalBytes: size,
    name: basename(path),
    close: () => {
      text.destroy();
      close();
    },
  };
}

/**
 * Decompressed text, with zlib's errors said in the log's terms: gzip data that stops early is a
 * cut file (what came before it is good), data that is not gzip at all is not a log.
 */
async function* gunzipped(text: Readable, bytesRead: () => number): AsyncGenerator<string> {
  let produced = 0;
  try {
    for await (const chunk of text as AsyncIterable<string>) {
      produced += chunk.length;
      yield chunk;
    }
  } catch (err) {
    throw gzipError(err as NodeJS.ErrnoException, produced, bytesRead());
  }
}

function gzipError(err: NodeJS.ErrnoException, producedChars: number, bytesRead: number): Error {
  if (err.code === 'Z_BUF_ERROR') {
    return new LogTruncatedError(`the gzip data ends early, ${bytesRead} bytes into the file: the file is cut short`);
  }
  if (err.code !== 'Z_DATA_ERROR') return err;
  if (producedChars === 0) return new LogFormatError(`not gzip data (${err.message}); a file that is not compressed must not end in .gz`);
  return new LogTruncatedError(`the gzip data is damaged about ${bytesRead} bytes into the file (${err.message})`);
}

/** The format a file name implies (`.csv` `.tsv` `.txt` / `.xes` `.xml`, optionally `.gz`). */
export function formatFromName(path: string): LogFormat | undefined {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (/\.(csv|tsv|txt)$/.test(name)) return 'csv';
  if (/\.(xes|xml)$/.test(name)) return 'xes';
  return undefined;
}
