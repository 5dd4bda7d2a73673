import { Logger } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { errorReply, gatewayLearningSubjects, okReply, type ServiceReply } from '@toolpath/contracts';
import type { MinedPattern } from '@toolpath/mining';
import { loadConfig, type NatsClient } from '@toolpath/platform';
import { connectTestNats, testNames } from '@toolpath/testing';
import { analyzerConfigSchema } from '../analyzer.config';
import type { PatternPromotions } from '../patterns/pattern-promotions';
import type { TenantStates } from '../state/tenant-states.service';
import { AutoPromoter } from './auto-promoter';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DEFINITION = { version: 1, name: 'learned', source: 'learned', steps: [{ id: 's1', tool: 'a' }] };

/** The automatic promotion against a stand-in gateway on the real NATS server, with the marks recorded. */
describe('AutoPromoter (real NATS)', () => {
  let nc: NatsConnection;
  let prefix: string;
  let marks: Array<[string, string, string]>;
  let promoter: AutoPromoter;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    nc = await connectTestNats();
  });
  afterAll(async () => {
    await nc.close();
  });
  beforeEach(() => {
    prefix = testNames('autopro').subjectPrefix;
    marks = [];
    const config = loadConfig(analyzerConfigSchema, { TOOLPATH_SUBJECT_PREFIX: prefix, DEPENDENCY_TIMEOUT_MS: '250', ANALYZER_AUTO_PROMOTE_MIN_CONFIDENCE: '0.5' });
    const states = { cached: () => ({ views: { inferred: () => ({ definition: DEFINITION }) } }) } as unknown as TenantStates;
    const promotions = {
      markPromoted: async (tenantId: string, patternId: string, workflowId: string) => {
        marks.push([tenantId, patternId, workflowId]);
        return 'marked' as const;
      },
    } as unknown as PatternPromotions;
    promoter = new AutoPromoter(config, { nc } as NatsClient, states, promotions);
  });

  const pattern = (id: string, confidence: number) => ({ id, confidence }) as MinedPattern;

  /** Answers each promotion with `answer(body)` (null: takes it and never answers); returns the bodies received. */
  async function gateway(answer: (body: { patternId: string }) => ServiceReply<unknown> | null): Promise<unknown[]> {
    const received: unknown[] = [];
    nc.subscribe(gatewayLearningSubjects(prefix).promote, {
      callback: (_, msg) => {
        const body = JSON.parse(decoder.decode(msg.data));
        received.push(body);
        const reply = answer(body);
        if (reply) msg.respond(encoder.encode(JSON.stringify(reply)));
      },
    });
    await nc.flush();
    return received;
  }

  async function settle(check: () => boolean): Promise<void> {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  }

  it('sends each due pattern once with its definition and marks it with the workflow the gateway answers', async () => {
    const received = await gateway((b) => okReply({ workflowId: `wf_${b.patternId}`, created: true }));
    const listed = [pattern('p1', 0.9), pattern('p2', 0.4), pattern('p3', 0.7)];
    promoter.consider('acme', listed, new Map([['p3', 'wf_old']]));
    await settle(() => marks.length === 1);
    expect(received).toEqual([{ tenantId: 'acme', patternId: 'p1', workflow: DEFINITION }]);
    expect(marks).toEqual([['acme', 'p1', 'wf_p1']]);
    // Asked already (and not yet due again): a second run sends nothing.
    promoter.consider('acme', listed, new Map());
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(2);
    expect(received[1]).toMatchObject({ patternId: 'p3' });
  });

  it('marks nothing when the gateway refuses or does not answer', async () => {
    const received = await gateway((b) => (b.patternId === 'refused' ? errorReply(400, 'promotion_failed', 'invalid workflow definition') : null));
    promoter.consider('acme', [pattern('refused', 0.9), pattern('silent', 0.9)], new Map());
    await settle(() => received.length === 2);
    await new Promise((r) => setTimeout(r, 400));
    expect(marks).toEqual([]);
  });
});
