import { RejectReason } from '@toolpath/contracts';
import type { RejectedEvent } from '@toolpath/event-store';
import { rejectedView } from './event-views';

function row(over: Partial<RejectedEvent> = {}): RejectedEvent {
  return {
    _id: 'EV:7',
    tenantId: 't1',
    subject: 'toolpath.events.t1',
    reason: RejectReason.InvalidEvent,
    field: 'tool',
    message: 'tool: required',
    issues: [{ field: 'tool', message: 'required' }],
    eventId: 'e1',
    raw: Buffer.from('{"kind":"tool_call"}'),
    receivedAt: new Date('2026-12-06T00:00:00Z'),
    streamSeq: 7,
    ...over,
  };
}

describe('rejectedView', () => {
  it('says which consumer gave up and after how many tries', () => {
    const v = rejectedView(row({ _id: 'EV:7:analyzer', reason: RejectReason.ProcessingFailed, consumer: 'analyzer', attempts: 3 }));
    expect(v).toMatchObject({ id: 'EV:7:analyzer', reason: 'processing_failed', consumer: 'analyzer', attempts: 3 });
  });

  it('names the recorder for what it refused at the door, with no attempts', () => {
    const v = rejectedView(row());
    expect(v).toMatchObject({ consumer: 'recorder', rawBytes: 20, rawTruncated: false });
    expect(v).not.toHaveProperty('attempts');
  });
});
