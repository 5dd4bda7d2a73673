import { NextStepModel, PatternCounter } from '@toolpath/mining';
import { LearningStats } from '../stats/learning-stats';
import { decodeSnapshot, encodeSnapshot } from './tenant-state.repository';

describe('tenant snapshot', () => {
  const counter = new PatternCounter({ tenantId: 't' });
  const model = new NextStepModel();
  for (let i = 0; i < 5; i++) {
    const s = { tenantId: 't', sessionId: `s${i}`, intent: 'ship it', steps: ['a', 'b', 'c'].map((tool) => ({ tool, success: true, durationMs: 1, startedAt: i })), startedAt: i, endedAt: i, lastStreamSeq: i };
    counter.addSession(s);
    model.addSession(s);
  }
  const stats = new LearningStats().toState();

  it('keeps the next-step model beside the pattern counts', () => {
    const decoded = decodeSnapshot(encodeSnapshot(stats, counter.toSnapshot(), model.toSnapshot()));
    expect(PatternCounter.fromSnapshot(decoded.counter).sessionsSeen).toBe(5);
    expect(decoded.nextSteps).toBeDefined();
    expect(NextStepModel.fromSnapshot(decoded.nextSteps!).predict(['a'], 'ship it', 2)).toEqual(model.predict(['a'], 'ship it', 2));
  });

  it('still reads a snapshot written before the model existed (no model: it starts empty)', () => {
    const decoded = decodeSnapshot(encodeSnapshot(stats, counter.toSnapshot()));
    expect(decoded.nextSteps).toBeUndefined();
    expect(PatternCounter.fromSnapshot(decoded.counter).sessionsSeen).toBe(5);
  });
});
