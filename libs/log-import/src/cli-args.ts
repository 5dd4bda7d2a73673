import { parseArgs } from 'node:util';
import { DEFAULT_EVENTS_STREAM, DEFAULT_SUBJECT_PREFIX, TENANT_ID_PATTERN } from '@toolpath/contracts';
import type { ColumnMapping } from './column-mapping';
import type { ResourceTarget } from './event-mapper';
import { formatFromName, type LogFormat } from './log-source';
import { DEFAULT_SUCCESS_VALUES } from './outcome';
import { createTimestampParser, parseOffset, TimestampFormatError, type TimestampFormat } from './timestamp-parser';

export const USAGE = `usage: toolpath-import [options] <file>

Imports a CSV or XES event log into Toolpath as tool-call events: each case becomes a session,
each activity a tool call (in file order), and each case ends with a session_end. Streams the
file (.gz too; - reads standard input), so its size does not matter. Importing the same file
again adds nothing: event ids come from the file name, the case and the position in the case.

Input
  --format csv|xes          default: from the extension (.csv .tsv .txt / .xes .xml, optionally .gz)
  --case-column NAME        CSV column / XES trace attribute of the case id
                            (CSV default: case, case id, case:concept:name, ...; XES: concept:name)
  --activity-column NAME    activity (CSV: activity, concept:name, event, task, ...; XES: concept:name)
  --timestamp-column NAME   time (CSV: timestamp, time:timestamp, time, ...; XES: time:timestamp)
  --resource-column NAME    who did it (CSV: resource, org:resource, user, ...; XES: org:resource)
  --outcome-column NAME     success or failure (CSV: outcome, success; XES: none)
  --intent-column NAME      the request text of the case
  --delimiter C             CSV field delimiter: , ; tab | ... (default: detected from the header)
  --timestamp-format F      auto (default) | iso | epoch-ms | epoch-s | a pattern such as
                            "YYYY-MM-DD HH:mm:ss" or "DD.MM.YYYY HH:mm" (tokens YYYY MM DD HH mm ss SSS Z).
                            auto reads ISO 8601, "YYYY-MM-DD HH:mm:ss", and integers as epoch
                            milliseconds (seconds below 100000000000)
  --assume-offset +HH:MM    zone of timestamps written without one (default Z, UTC)
  --success-values LIST     outcome values that mean success, comma-separated (default:
                            ${DEFAULT_SUCCESS_VALUES.join(',')}); any other non-empty value is a
                            failure whose text becomes the event's error
  --limit N                 stop after N activities

Events
  --tenant ID               tenant of the events (or TOOLPATH_TENANT)
  --intent TEXT             intent of every case whose log names none
  --resource-as user|parameter
                            resource → userId (default) or parameters.resource
  --no-parameters           do not copy the other columns / attributes into parameters
  --source-id ID            names the log in event ids (default: the file name). Give two different
                            logs with the same file name different ids.

Publishing
  --dry-run                 read, validate and count; publish nothing (no NATS needed)
  --nats-url URL            default NATS_URL or nats://127.0.0.1:4222
  --subject-prefix P        default TOOLPATH_SUBJECT_PREFIX or ${DEFAULT_SUBJECT_PREFIX}
  --window N                events awaiting their acknowledgement at most (default 2000): the file is
                            read no faster than the stream acknowledges
  --connect-timeout MS      default 5000
  --ack-timeout MS          give up when acknowledgements stop for this long (default 30000)

Output
  --json                    print the summary as JSON on stdout
  --quiet                   no progress lines
  --max-reported N          skipped lines reported one by one on stderr before only counting (default 100)
  -h, --help                this text

Progress (every second) and skipped lines go to stderr, the summary to stdout. Exit status:
0 imported (skipped lines are reported, not fatal), 1 nothing could be read, 2 bad arguments,
3 NATS unreachable, no stream for the subject, or events not acknowledged, 4 the file is cut
short or damaged (truncated gzip, XES without its end): what came before the cut is imported,
and the cases open at the cut get no session_end until the whole file is imported.`;

export interface CliOptions {
  file: string;
  format: LogFormat;
  mapping: ColumnMapping;
  delimiter?: string;
  timestampFormat: TimestampFormat;
  assumeOffsetMinutes: number;
  successValues: string[];
  limit?: number;
  tenantId: string;
  intent?: string;
  resourceAs: ResourceTarget;
  otherColumnsAsParameters: boolean;
  sourceId?: string;
  dryRun: boolean;
  natsUrl: string;
  subjectPrefix: string;
  /** Only named in messages: the apps create the stream, the importer checks one stores the subject. */
  stream: string;
  window: number;
  connectTimeoutMs: number;
  ackTimeoutMs: number;
  json: boolean;
  quiet: boolean;
  maxReported: number;
}

/** Bad command-line arguments (exit status 2). */
export class UsageError extends Error {}

export type ParsedCli = { help: true } | { help: false; options: CliOptions };

const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/;

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedCli {
  let parsed: ReturnType<typeof parseWithNode>;
  try {
    parsed = parseWithNode(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  if (parsed.positionals.length !== 1) {
    throw new UsageError(parsed.positionals.length === 0 ? 'name the log file to import' : `one file at a time, got ${parsed.positionals.length}`);
  }
  const file = parsed.positionals[0];

  const format = v.format ?? formatFromName(file);
  if (format === undefined) throw new UsageError(`cannot tell the format of ${file} from its name; pass --format csv or --format xes`);
  if (format !== 'csv' && format !== 'xes') throw new UsageError(`--format must be csv or xes, got ${JSON.stringify(format)}`);

  const tenantId = v.tenant ?? env.TOOLPATH_TENANT;
  if (tenantId === undefined) throw new UsageError('--tenant is required (or set TOOLPATH_TENANT)');
  if (!TENANT_ID_PATTERN.test(tenantId)) throw new UsageError(`--tenant must match ${TENANT_ID_PATTERN.source}, got ${JSON.stringify(tenantId)}`);

  const timestampFormat = v['timestamp-format'] ?? 'auto';
  try {
    createTimestampParser({ format: timestampFormat });
  } catch (err) {
    if (err instanceof TimestampFormatError) throw new UsageError(`--timestamp-format: ${err.message}`);
    throw err;
  }
  let assumeOffsetMinutes = 0;
  if (v['assume-offset'] !== undefined) {
    const offset = parseOffset(v['assume-offset']);
    if (offset === undefined) throw new UsageError(`--assume-offset must look like Z, +02:00 or -0530, got ${JSON.stringify(v['assume-offset'])}`);
    assumeOffsetMinutes = offset;
  }

  const resourceAs = v['resource-as'] ?? 'user';
  if (resourceAs !== 'user' && resourceAs !== 'parameter') throw new UsageError(`--resource-as must be user or parameter, got ${JSON.stringify(resourceAs)}`);

  let delimiter = v.delimiter;
  if (delimiter !== undefined) {
    if (delimiter === 'tab' || delimiter === '\\t') delimiter = '\t';
    if (delimiter.length === 0 || delimiter.includes('"') || /[\r\n]/.test(delimiter)) {
      throw new UsageError(`--delimiter must be a character other than a quote or newline, got ${JSON.stringify(v.delimiter)}`);
    }
  }
  if (format === 'xes' && delimiter !== undefined) throw new UsageError('--delimiter applies to CSV only');

  const subjectPrefix = v['subject-prefix'] ?? env.TOOLPATH_SUBJECT_PREFIX ?? DEFAULT_SUBJECT_PREFIX;
  if (!subjectPrefix.split('.').every((t) => SUBJECT_TOKEN.test(t))) throw new UsageError(`--subject-prefix is not a valid subject prefix: ${JSON.stringify(subjectPrefix)}`);
  const successValues = (v['success-values'] ?? DEFAULT_SUCCESS_VALUES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (successValues.length === 0) throw new UsageError('--success-values needs at least one value');

  const mapping: ColumnMapping = {
    case: nonEmpty('--case-column', v['case-column']),
    activity: nonEmpty('--activity-column', v['activity-column']),
    timestamp: nonEmpty('--timestamp-column', v['timestamp-column']),
    resource: nonEmpty('--resource-column', v['resource-column']),
    outcome: nonEmpty('--outcome-column', v['outcome-column']),
    intent: nonEmpty('--intent-column', v['intent-column']),
  };

  return {
    help: false,
    options: {
      file,
      format,
      mapping,
      delimiter,
      timestampFormat,
      assumeOffsetMinutes,
      successValues,
      limit: v.limit === undefined ? undefined : integer('--limit', v.limit, 1),
      tenantId,
      intent: v.intent,
      resourceAs,
      otherColumnsAsParameters: !v['no-parameters'],
      sourceId: nonEmpty('--source-id', v['source-id']),
      dryRun: v['dry-run'] ?? false,
      natsUrl: v['nats-url'] ?? env.NATS_URL ?? 'nats://127.0.0.1:4222',
      subjectPrefix,
      stream: env.TOOLPATH_EVENTS_STREAM ?? DEFAULT_EVENTS_STREAM,
      window: v.window === undefined ? 2000 : integer('--window', v.window, 2),
      connectTimeoutMs: v['connect-timeout'] === undefined ? 5000 : integer('--connect-timeout', v['connect-timeout'], 1),
      ackTimeoutMs: v['ack-timeout'] === undefined ? 30_000 : integer('--ack-timeout', v['ack-timeout'], 1),
      json: v.json ?? false,
      quiet: v.quiet ?? false,
      maxReported: v['max-reported'] === undefined ? 100 : integer('--max-reported', v['max-reported'], 0),
    },
  };
}

function parseWithNode(argv: string[]) {
  const text = { type: 'string' } as const;
  const flag = { type: 'boolean' } as const;
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      format: text,
      'case-column': text,
      'activity-column': text,
      'timestamp-column': text,
      'resource-column': text,
      'outcome-column': text,
      'intent-column': text,
      delimiter: text,
      'timestamp-format': text,
      'assume-offset': text,
      'success-values': text,
      limit: text,
      tenant: text,
      intent: text,
      'resource-as': text,
      'no-parameters': flag,
      'source-id': text,
      'dry-run': flag,
      'nats-url': text,
      'subject-prefix': text,
      window: text,
      'connect-timeout': text,
      'ack-timeout': text,
      json: flag,
      quiet: flag,
      'max-reported': text,
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') throw new UsageError(`${flag} must not be empty`);
  return value;
}

function integer(flag: string, raw: string, min: number): number {
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}
