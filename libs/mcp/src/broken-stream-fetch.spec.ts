import { brokenStreamFetch } from './broken-stream-fetch';

const request = (id: number) => ({ method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow' } }) });

/** An SSE response whose body sends `chunks`, then ends, or breaks when `fail`. */
function sse(sent: string[], fail: boolean) {
  const chunks = [...sent];
  return async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        // One chunk a read, then the end or the break (an error would discard chunks still queued).
        pull(c) {
          const chunk = chunks.shift();
          if (chunk !== undefined) c.enqueue(new TextEncoder().encode(chunk));
          else if (fail) c.error(new Error('socket hang up'));
          else c.close();
        },
      }),
      { status: 200, headers: { 'content-type': 'text/event-stream' } },
    );
}

function messagesOf(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as unknown);
}

describe('brokenStreamFetch', () => {
  it('ends a response stream that breaks before the response with a ConnectionClosed error for the request', async () => {
    const progress = 'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}\n\n';
    const res = await brokenStreamFetch(sse([progress], true))('http://x/mcp', request(7));
    expect(messagesOf(await res.text())).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } },
      { jsonrpc: '2.0', id: 7, error: { code: -32000, message: expect.stringContaining('broke (socket hang up) before the response') } },
    ]);
    const ended = await brokenStreamFetch(sse([], false))('http://x/mcp', request(8));
    expect(messagesOf(await ended.text())).toEqual([{ jsonrpc: '2.0', id: 8, error: { code: -32000, message: expect.stringContaining('ended before the response') } }]);
  });

  it('leaves answered and resumable streams, and other requests, as they are', async () => {
    const answer = 'event: message\ndata: {"jsonrpc":"2.0","id":7,"result":{"content":[]}}\n\n';
    const answered = await brokenStreamFetch(sse([answer], false))('http://x/mcp', request(7));
    expect(await answered.text()).toBe(answer);
    const resumable = await brokenStreamFetch(sse(['id: e1\ndata: \n\n'], true))('http://x/mcp', request(7));
    await expect(resumable.text()).rejects.toThrow();
    const notification = await brokenStreamFetch(sse([], false))('http://x/mcp', { method: 'POST', body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' });
    expect(await notification.text()).toBe('');
  });
});
