/**
 * Most update, replace or delete operations one write command (a `bulkWrite` call) may carry.
 *
 * FerretDB v1 (the development and CI database) stops answering every client for good when a
 * single command carries about 50 or more of them: measured 40 fine, 60 hung, with its 50
 * PostgreSQL connections left idle. Separate commands at the same time are fine. MongoDB has no
 * such limit, but a smaller command costs it nothing that matters here.
 */
export const MAX_WRITES_PER_COMMAND = 20;

/**
 * Runs `write` over `ops` a command's worth at a time, in order, one after the other; `offset`
 * is the chunk's first index in `ops` (to map a chunk's write errors back).
 */
export async function inWriteChunks<T>(ops: readonly T[], write: (chunk: T[], offset: number) => Promise<void>): Promise<void> {
  for (let offset = 0; offset < ops.length; offset += MAX_WRITES_PER_COMMAND) {
    await write(ops.slice(offset, offset + MAX_WRITES_PER_COMMAND), offset);
  }
}
