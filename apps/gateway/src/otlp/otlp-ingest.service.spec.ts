import type { MetricsService, NatsClient } from '@toolpath/platform';
import { decodeTraceRequestJson } from '@toolpath/otlp-mapping';
import type { GatewayConfig } from '../gateway.config';
import { OtlpIngestService, rejectionMessage } from './otlp-ingest.service';
import { OtlpHttpError } from './otlp-status';

const config = { TOOLPATH_SUBJECT_PREFIX: 'toolpath', GATEWAY_PUBLISH_TIMEOUT_MS: 100 } as GatewayConfig;
const metrics = { counter: () => ({ inc: () => undefined }) } as unknown as MetricsService;

const toolSpan = (i: number) => ({
  traceId: 'b'.repeat(32),
  spanId: (i + 1).toString(16).padStart(16, '0'),
  name: `execute_tool t${i}`,
  startTimeUnixNano: '1795000000000000000',
  endTimeUnixNano: '1795000000001000000',
  attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } }],
});
const exportOf = (spans: unknown[]) => decodeTraceRequestJson({ resourceSpans: [{ scopeSpans: [{ spans }] }] });

function service(publish: (subject: string, data: Uint8Array, opts: { msgID: string }) => Promise<{ duplicate: boolean }>): OtlpIngestService {
  return new OtlpIngestService(config, { js: { publish } } as unknown as NatsClient, metrics);
}

describe('OtlpIngestService', () => {
  it('publishes one event per tool span with the span-derived id as Nats-Msg-Id, and counts repeats', async () => {
    const ids: string[] = [];
    const svc = service(async (_s, _d, opts) => {
      ids.push(opts.msgID);
      return { duplicate: ids.length === 2 };
    });
    const r = await svc.ingest('acme', exportOf([toolSpan(0), toolSpan(1), { ...toolSpan(2), name: 'chat', attributes: [] }]));
    expect(ids).toEqual([`acme:otlp-${'b'.repeat(32)}-0000000000000001`, `acme:otlp-${'b'.repeat(32)}-0000000000000002`]);
    expect(r).toEqual({ spans: 3, accepted: 2, duplicates: 1, ignored: 1, rejected: [] });
  });

  it('refuses the whole export with a retryable 503 when the stream does not acknowledge an event', async () => {
    const svc = service(async (_s, _d, opts) => {
      if (opts.msgID.endsWith('2')) throw new Error('TIMEOUT');
      return { duplicate: false };
    });
    const err = await svc.ingest('acme', exportOf([toolSpan(0), toolSpan(1)])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OtlpHttpError);
    expect(err).toMatchObject({ statusCode: 503, retryAfterS: 1 });
    expect((err as Error).message).toContain('did not acknowledge 1 of 2');
  });

  it('lists the first refusals in the partialSuccess message', async () => {
    const svc = service(async () => ({ duplicate: false }));
    const r = await svc.ingest('acme', exportOf(Array.from({ length: 7 }, (_, i) => ({ ...toolSpan(i), name: 'execute_tool', attributes: toolSpan(i).attributes }))));
    expect(r.rejected).toHaveLength(7);
    const message = rejectionMessage(r);
    expect(message).toMatch(/^7 of 7 spans rejected: span 0000000000000001 "execute_tool": no tool name/);
    expect(message).toContain('; and 2 more');
  });
});
