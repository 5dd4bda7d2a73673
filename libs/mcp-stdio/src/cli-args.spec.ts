import { DEFAULT_URL, parseCliArgs } from './cli-args';

describe('parseCliArgs', () => {
  const key = { TOOLPATH_API_KEY: 'k-0123456789abcdef' };

  it('serves the default or given URL with the key from the environment', () => {
    expect(parseCliArgs([], key)).toMatchObject({ kind: 'serve', apiKey: key.TOOLPATH_API_KEY, connectTimeoutMs: 10_000 });
    expect((parseCliArgs([], key) as { url: URL }).url.href).toBe(DEFAULT_URL);
    expect((parseCliArgs(['--url', 'https://tp.example/mcp'], key) as { url: URL }).url.href).toBe('https://tp.example/mcp');
    expect((parseCliArgs(['--url=http://h:1/mcp'], { ...key, TOOLPATH_MCP_URL: 'http://other/mcp' }) as { url: URL }).url.href).toBe('http://h:1/mcp');
    expect((parseCliArgs([], { ...key, TOOLPATH_MCP_URL: 'http://other/mcp' }) as { url: URL }).url.href).toBe('http://other/mcp');
  });

  it('answers help and version before anything is checked', () => {
    expect(parseCliArgs(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseCliArgs(['-h', '--bogus'], {})).toEqual({ kind: 'help' });
    expect(parseCliArgs(['--version'], {})).toEqual({ kind: 'version' });
  });

  it('names what is wrong', () => {
    expect(parseCliArgs([], {})).toMatchObject({ kind: 'error', message: expect.stringContaining('TOOLPATH_API_KEY') });
    expect(parseCliArgs(['--url'], key)).toMatchObject({ kind: 'error', message: expect.stringContaining('--url needs a value') });
    expect(parseCliArgs(['--url', 'nope'], key)).toMatchObject({ kind: 'error', message: expect.stringContaining('is not a URL') });
    expect(parseCliArgs(['--url', 'ftp://h/mcp'], key)).toMatchObject({ kind: 'error', message: expect.stringContaining('http(s)') });
    expect(parseCliArgs(['--connect-timeout-ms', '0'], key)).toMatchObject({ kind: 'error', message: expect.stringContaining('positive') });
    expect(parseCliArgs(['--frobnicate'], key)).toMatchObject({ kind: 'error', message: expect.stringContaining('"--frobnicate"') });
  });
});
