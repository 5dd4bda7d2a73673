import { capResult, retryDelayMs } from './backoff';

describe('retryDelayMs', () => {
  it('fixed backoff waits delayMs every time', () => {
    expect([1, 2, 5].map((n) => retryDelayMs({ type: 'fixed', delayMs: 200 }, n))).toEqual([200, 200, 200]);
  });
  it('exponential backoff doubles and is capped by maxDelayMs', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs({ type: 'exponential', delayMs: 100, maxDelayMs: 500 }, n))).toEqual([100, 200, 400, 500]);
  });
  it('no policy means no wait', () => {
    expect(retryDelayMs(undefined, 3)).toBe(0);
  });
});

describe('capResult', () => {
  it('keeps a small result and replaces a large one with a marked preview', () => {
    expect(capResult({ a: 1 }, 100)).toEqual({ result: { a: 1 }, truncated: false });
    const big = capResult({ s: 'x'.repeat(1000) }, 200);
    expect(big.truncated).toBe(true);
    expect(typeof big.result).toBe('string');
    expect(Buffer.byteLength(big.result as string)).toBeLessThanOrEqual(200);
  });
});
