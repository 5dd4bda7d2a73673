import { MCP_TOOL_NAME_MAX, namespacedToolName, serverOfName, ToolDirectory } from './namespaced-tools';

const info = (server: string, name: string) => ({ server, name, inputSchema: { type: 'object' } });

describe('gateway tool names', () => {
  it('are <server>__<tool> with only the characters MCP allows, at most 128 long and unique', () => {
    expect(namespacedToolName('fs', 'read_file')).toBe('fs__read_file');
    expect(namespacedToolName('gh', 'repos/list pulls')).toBe('gh__repos_list_pulls');
    expect(namespacedToolName('a-b', 'v1.get')).toBe('a-b__v1.get');
    const long1 = namespacedToolName('s', 'x'.repeat(200));
    const long2 = namespacedToolName('s', `${'x'.repeat(199)}y`);
    expect(long1).toHaveLength(MCP_TOOL_NAME_MAX);
    expect(long1).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(long1).not.toBe(long2);
  });

  it('find their server by the longest configured name, since server names may hold __', () => {
    expect(serverOfName('a__b__c', ['a', 'a__b'])).toBe('a__b');
    expect(serverOfName('a__x', ['a', 'a__b'])).toBe('a');
    expect(serverOfName('a__', ['a'])).toBeUndefined();
    expect(serverOfName('suggest_workflows', ['a'])).toBeUndefined();
  });

  it('keep the first of two upstream tools that map to one name and report the other', () => {
    const d = new ToolDirectory([info('a', 'b__c'), info('a__b', 'c'), info('a', 'x/y'), info('a', 'x_y')]);
    expect(d.get('a__b__c')).toMatchObject({ server: 'a', tool: 'b__c' });
    expect(d.get('a__x_y')).toMatchObject({ server: 'a', tool: 'x/y' });
    expect(d.collisions).toEqual(['a__b/c → a__b__c', 'a/x_y → a__x_y']);
  });
});
