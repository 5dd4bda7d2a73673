import { activityEventId, caseIdSeed, importEventId, sessionEndEventId } from './import-event-id';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('import event ids', () => {
  it('never change: ids already in a stream or store must match a later import', () => {
    expect(importEventId('orders.csv', 'order-1001', 0, Date.UTC(2026, 0, 5, 8, 14, 23))).toBe('019b8d38-b718-73f9-beea-c75b7edc8e7b');
    expect(importEventId('orders.csv', 'order-1001', 'end')).toBe('f0b04db3-da31-890d-bbca-157a86f8b144');
  });

  it('are UUIDs whose time is the activity time', () => {
    const id = importEventId('s', 'c', 3, Date.UTC(2026, 0, 5));
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 0, 5));
    expect(importEventId('s', 'c', 'end')).toMatch(UUID_V8);
    expect(importEventId('s', 'c', 0, -5)).toMatch(/^00000000-0000-7/);
  });

  it('differ for every position of a case, even at one timestamp, and between cases and sources', () => {
    const seed = caseIdSeed('s', 'c');
    const ids = new Set<string>();
    for (let p = 0; p < 100_000; p++) ids.add(activityEventId(seed, p, 0));
    expect(ids.size).toBe(100_000);
    expect(activityEventId(caseIdSeed('s', 'd'), 0, 0)).not.toBe(activityEventId(seed, 0, 0));
    expect(activityEventId(caseIdSeed('t', 'c'), 0, 0)).not.toBe(activityEventId(seed, 0, 0));
    expect(sessionEndEventId(caseIdSeed('a', 'b'))).not.toBe(sessionEndEventId(caseIdSeed('a', 'c')));
  });
});
