import { Test, type TestingModule } from '@nestjs/testing';
import { ExecutionRepository } from './execution.repository';
import { ExecutionWriter } from './execution-writer';

/**
 * Group commit of `executions` rows, with the repository in memory (Nest builds the writer as the
 * app does; `overrideProvider` swaps its repository). The real repository is covered against
 * infrastructure in apps/executor/test.
 */

type Row = Parameters<ExecutionWriter['final']>[0];

const row = (id: string, status = 'RUNNING') => ({ _id: `acme:${id}`, status }) as unknown as Row;

/** `executions` in memory; each write call is recorded, and may be held open or refused. */
class InMemoryExecutions implements Pick<ExecutionRepository, 'writeFinals' | 'writeSnapshots'> {
  readonly rows = new Map<string, Row>();
  readonly calls: Array<{ kind: 'final' | 'snapshot'; ids: string[] }> = [];
  /** While set, writes wait for it: the test decides when the database answers. */
  gate: Promise<void> | undefined;
  /** A row the database refuses for its content (the whole call fails while it is in it). */
  refused: string | undefined;

  async writeFinals(docs: Row[]): Promise<void> {
    await this.record('final', docs);
  }

  async writeSnapshots(docs: Row[]): Promise<void> {
    await this.record('snapshot', docs);
  }

  private async record(kind: 'final' | 'snapshot', docs: Row[]): Promise<void> {
    this.calls.push({ kind, ids: docs.map((d) => d._id) });
    await this.gate;
    if (docs.some((d) => d._id === this.refused)) throw new Error(`document ${this.refused} refused`);
    for (const d of docs) this.rows.set(d._id, d);
  }
}

function opened(): { gate: Promise<void>; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return { gate, open };
}

describe('ExecutionWriter with the executions in memory', () => {
  let repo: InMemoryExecutions;
  let app: TestingModule;
  let writer: ExecutionWriter;

  beforeEach(async () => {
    repo = new InMemoryExecutions();
    app = await Test.createTestingModule({ providers: [ExecutionRepository, ExecutionWriter] })
      .overrideProvider(ExecutionRepository)
      .useValue(repo)
      .setLogger({ log: () => undefined, error: () => undefined, warn: () => undefined })
      .compile();
    writer = app.get(ExecutionWriter);
  });
  afterEach(() => app.close());

  it('writes the rows handed over together in one call, and what arrives during a write in the next one', async () => {
    const { gate, open } = opened();
    repo.gate = gate;
    const first = [writer.final(row('r1', 'COMPLETED')), writer.final(row('r2', 'FAILED'))];
    await new Promise((r) => setImmediate(r));
    const later = [writer.final(row('r3', 'COMPLETED')), writer.final(row('r4', 'COMPLETED')), writer.snapshot(row('r5'))];
    open();
    await Promise.all([...first, ...later]);
    expect(repo.calls).toEqual([
      { kind: 'final', ids: ['acme:r1', 'acme:r2'] },
      { kind: 'final', ids: ['acme:r3', 'acme:r4'] },
      { kind: 'snapshot', ids: ['acme:r5'] },
    ]);
  });

  it('coalesces writes of a waiting row into the last one; a snapshot never replaces a waiting final row', async () => {
    const { gate, open } = opened();
    repo.gate = gate;
    const busy = writer.final(row('r0', 'COMPLETED'));
    await new Promise((r) => setImmediate(r));
    const waits = [writer.snapshot(row('r1', 'RUNNING')), writer.final(row('r1', 'COMPLETED')), writer.snapshot(row('r1', 'RUNNING'))];
    open();
    await Promise.all([busy, ...waits]);
    expect(repo.calls).toEqual([
      { kind: 'final', ids: ['acme:r0'] },
      { kind: 'final', ids: ['acme:r1'] },
    ]);
    expect(repo.rows.get('acme:r1')).toMatchObject({ status: 'COMPLETED' });
  });

  it('writes the rows of a refused batch one at a time, so only the refused row fails', async () => {
    repo.refused = 'acme:r2';
    const outcomes = await Promise.allSettled([writer.final(row('r1', 'COMPLETED')), writer.final(row('r2', 'COMPLETED')), writer.final(row('r3', 'FAILED'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect([...repo.rows.keys()].sort()).toEqual(['acme:r1', 'acme:r3']);
    expect(repo.calls.map((c) => c.ids.length)).toEqual([3, 1, 1, 1]);
  });

  it('fails the waiters of a snapshot write the database refuses, and keeps writing afterwards', async () => {
    repo.refused = 'acme:r1';
    await expect(writer.snapshot(row('r1'))).rejects.toThrow('refused');
    repo.refused = undefined;
    await writer.snapshot(row('r1'));
    expect(repo.rows.has('acme:r1')).toBe(true);
  });

  it('waits at shutdown for the rows still being written', async () => {
    const { gate, open } = opened();
    repo.gate = gate;
    let durable = false;
    void writer.final(row('r1', 'COMPLETED')).then(() => (durable = true));
    await new Promise((r) => setImmediate(r));
    const closing = app.close();
    setTimeout(open, 20);
    await closing;
    expect(durable).toBe(true);
  });
});
