import { connect, type NatsConnection } from 'nats';
import { eventsSubject } from '@toolpath/contracts';
import { EventDroppedError, EventPublisher } from '@toolpath/sdk';
import { parseCliArgs, USAGE, UsageError, type CliOptions } from './cli-args';
import { LogFormatError } from './column-mapping';
import { readCsvLog } from './csv-log-reader';
import { AcknowledgementTimeoutError, DryRunSink, PublishingSink, publisherBufferFor, type EventSink } from './event-sink';
import { formatSummary, formatProgress } from './import-report';
import { runImport, type ImportSummary } from './log-importer';
import type { LogItem, SkippedItem } from './log-record';
import { openLogFile, type LogSource } from './log-source';
import { createOutcomeInterpreter } from './outcome';
import { createTimestampParser } from './timestamp-parser';
import { readXesLog, type XesReaderCounters } from './xes-log-reader';

/** Exit statuses of `toolpath-import`. */
export const ExitCode = {
  Ok: 0,
  NothingRead: 1,
  Usage: 2,
  Nats: 3,
  /** The file is cut short or damaged: what came before the cut was imported. */
  Truncated: 4,
} as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Aborting stops reading; what was read is still flushed and summarised. */
  signal?: AbortSignal;
}

/** The whole command: arguments in, exit status out; never throws. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let options: CliOptions;
  try {
    const parsed = parseCliArgs(argv, env);
    if (parsed.help) {
      io.stdout(`${USAGE}\n`);
      return ExitCode.Ok;
    }
    options = parsed.options;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`toolpath-import: ${err.message}\n(see toolpath-import --help)\n`);
    return ExitCode.Usage;
  }

  let source: LogSource;
  try {
    source = openLogFile(options.file);
  } catch (err) {
    io.stderr(`toolpath-import: ${(err as Error).message}\n`);
    return ExitCode.NothingRead;
  }

  let nc: NatsConnection | undefined;
  let publisher: EventPublisher | undefined;
  let sink: EventSink;
  if (options.dryRun) {
    sink = new DryRunSink(options.tenantId, options.subjectPrefix);
  } else {
    try {
      nc = await connectToStream(options);
    } catch (err) {
      io.stderr(`toolpath-import: ${(err as Error).message}\n`);
      destroy(source);
      return ExitCode.Nats;
    }
    const reportedDrops = { n: 0 };
    publisher = new EventPublisher(nc, {
      tenantId: options.tenantId,
      subjectPrefix: options.subjectPrefix,
      source: 'toolpath-import',
      maxBuffer: publisherBufferFor(options.window),
      maxInFlight: Math.min(256, options.window),
      onError: (err) => {
        if (err instanceof EventDroppedError && reportedDrops.n++ >= options.maxReported) return;
        io.stderr(`toolpath-import: ${err.message}\n`);
      },
    });
    sink = new PublishingSink(publisher, { window: options.window, ackTimeoutMs: options.ackTimeoutMs });
  }

  const counters: XesReaderCounters = { ignoredTransitions: 0 };
  let reported = 0;
  const onSkip = (skip: SkippedItem): void => {
    if (reported++ < options.maxReported) {
      const where = skip.line > 0 ? `${source.name}:${skip.line}` : source.name;
      const count = skip.count && skip.count > 1 ? ` (${skip.count} activities)` : '';
      io.stderr(`${where}: ${skip.reason}: ${skip.message}${count}\n`);
    } else if (reported === options.maxReported + 1) {
      io.stderr(`toolpath-import: more skipped lines; from here on they are only counted (--max-reported)\n`);
    }
  };

  let summary: ImportSummary | undefined;
  let status: number = ExitCode.Ok;
  try {
    summary = await runImport({
      items: readLog(source, options, counters),
      signal: io.signal,
      sink,
      sourceId: options.sourceId ?? source.name,
      resourceAs: options.resourceAs,
      intent: options.intent,
      limit: options.limit,
      onSkip,
      onProgress: options.quiet ? undefined : (p) => io.stderr(`${formatProgress(p, source)}\n`),
    });
  } catch (err) {
    if (err instanceof LogFormatError) {
      io.stderr(`toolpath-import: ${source.name}: ${err.message}\n`);
      status = ExitCode.NothingRead;
    } else if (err instanceof AcknowledgementTimeoutError) {
      io.stderr(`toolpath-import: ${err.message}; stopped reading\n`);
      status = ExitCode.Nats;
    } else {
      io.stderr(`toolpath-import: ${(err as Error).stack ?? String(err)}\n`);
      status = ExitCode.NothingRead;
    }
  } finally {
    destroy(source);
    await publisher?.close({ timeoutMs: 5000 });
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
  }
  if (summary) {
    const sent = sink.counts();
    summary.dropped = sent.dropped;
    const extra = {
      file: options.file,
      format: options.format,
      tenantId: options.tenantId,
      dryRun: options.dryRun,
      ignoredTransitions: counters.ignoredTransitions,
      emptyTraces: counters.emptyTraces ?? 0,
    };
    io.stdout(options.json ? `${JSON.stringify({ ...extra, ...summary })}\n` : `${formatSummary(summary, extra)}\n`);
    if (summary.truncated !== undefined) {
      const open = summary.casesLeftOpen ? `; the ${summary.casesLeftOpen} case(s) open there got no session_end: import the whole (or repaired) file under the same name or --source-id to end them` : '';
      io.stderr(`toolpath-import: ${source.name}: ${summary.truncated}${open}\n`);
    } else if (summary.casesLeftOpen) {
      io.stderr(
        `toolpath-import: stopped ${summary.limited ? 'at --limit' : 'when interrupted'}: the ${summary.casesLeftOpen} case(s) still open got no session_end ` +
          '(the rest of the file may continue them): import the whole file under the same name or --source-id to end them\n',
      );
    }
    if (summary.dropped > 0) {
      io.stderr(`toolpath-import: ${summary.dropped} event(s) were not acknowledged by the stream\n`);
      status = ExitCode.Nats;
    } else if (summary.truncated !== undefined) {
      status = ExitCode.Truncated;
    } else if (summary.toolCalls === 0) {
      io.stderr(`toolpath-import: nothing could be imported from ${source.name}\n`);
      status = ExitCode.NothingRead;
    }
  }
  return status;
}

function readLog(source: LogSource, options: CliOptions, counters: XesReaderCounters): AsyncIterable<LogItem> {
  const parseTimestamp = createTimestampParser({ format: options.timestampFormat, assumeOffsetMinutes: options.assumeOffsetMinutes });
  const interpretOutcome = createOutcomeInterpreter(options.successValues);
  if (options.format === 'xes') {
    return readXesLog(source.chunks, { mapping: options.mapping, parseTimestamp, interpretOutcome, counters });
  }
  return readCsvLog(source.chunks, {
    mapping: options.mapping,
    delimiter: options.delimiter,
    parseTimestamp,
    interpretOutcome,
    otherColumnsAsParameters: options.otherColumnsAsParameters,
  });
}

/** Connects, and checks that a stream stores the tenant's subject, so a wrong setup fails before reading. */
async function connectToStream(options: CliOptions): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.natsUrl.split(','),
      name: 'toolpath-import',
      timeout: options.connectTimeoutMs,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
    });
  } catch (err) {
    throw new Error(`NATS unreachable at ${options.natsUrl}: ${(err as Error).message}`);
  }
  const subject = eventsSubject(options.subjectPrefix, options.tenantId);
  try {
    const jsm = await nc.jetstreamManager({ timeout: options.connectTimeoutMs });
    await jsm.streams.find(subject);
  } catch (err) {
    await nc.close().catch(() => undefined);
    const message = (err as Error).message;
    if (/no stream matches subject/i.test(message)) {
      throw new Error(
        `no JetStream stream stores ${subject}; the Toolpath apps create ${options.stream} at start (npm start), or check --subject-prefix`,
      );
    }
    throw new Error(`JetStream at ${options.natsUrl}: ${message}`);
  }
  return nc;
}

function destroy(source: LogSource): void {
  source.close();
}
