import { parseCliArgs, UsageError } from './cli-args';

const parse = (args: string, env: NodeJS.ProcessEnv = {}) => parseCliArgs(args.split(' ').filter(Boolean), env);
const options = (args: string, env: NodeJS.ProcessEnv = {}) => {
  const parsed = parse(args, env);
  if (parsed.help) throw new Error('help');
  return parsed.options;
};

describe('parseCliArgs', () => {
  it('recognises --help and -h', () => {
    expect(parse('--help')).toEqual({ help: true });
    expect(parse('-h x.csv')).toEqual({ help: true });
  });

  it('fills defaults from the environment like the apps', () => {
    const o = options('log.csv', { TOOLPATH_TENANT: 'acme', NATS_URL: 'nats://n:4222', TOOLPATH_SUBJECT_PREFIX: 'tp_x' });
    expect(o).toMatchObject({ file: 'log.csv', format: 'csv', tenantId: 'acme', natsUrl: 'nats://n:4222', subjectPrefix: 'tp_x', window: 2000, dryRun: false, resourceAs: 'user', otherColumnsAsParameters: true });
  });

  it('reads every mapping flag', () => {
    const o = options('--tenant t --case-column c --activity-column a --timestamp-column ts --resource-column r --outcome-column o --intent-column i --delimiter tab --no-parameters --dry-run --limit 10 --source-id s log.tsv');
    expect(o.mapping).toEqual({ case: 'c', activity: 'a', timestamp: 'ts', resource: 'r', outcome: 'o', intent: 'i' });
    expect(o).toMatchObject({ delimiter: '\t', otherColumnsAsParameters: false, dryRun: true, limit: 10, sourceId: 's' });
  });

  it('takes the format from the extension, .gz included', () => {
    expect(options('--tenant t log.xes.gz').format).toBe('xes');
    expect(options('--tenant t --format xes log.data').format).toBe('xes');
  });

  it.each([
    ['--tenant t', /name the log file/],
    ['--tenant t a.csv b.csv', /one file at a time/],
    ['log.csv', /--tenant is required/],
    ['--tenant a.b log.csv', /--tenant must match/],
    ['--tenant t log.json', /cannot tell the format/],
    ['--tenant t --format json log.csv', /--format must be csv or xes/],
    ['--tenant t --limit 0 log.csv', /--limit must be an integer/],
    ['--tenant t --timestamp-format HH:mm log.csv', /--timestamp-format/],
    ['--tenant t --assume-offset 2h log.csv', /--assume-offset/],
    ['--tenant t --resource-as agent log.csv', /--resource-as/],
    ['--tenant t --delimiter " log.csv', /--delimiter/],
    ['--tenant t --bogus log.csv', /bogus/],
  ])('%s → usage error', (args, message) => {
    expect(() => parse(args)).toThrow(UsageError);
    expect(() => parse(args)).toThrow(message);
  });
});
