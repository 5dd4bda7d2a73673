import { DepthExceeded, InvalidStartRequest, InvalidWorkflow, RunNotFound } from '../runs/run-errors';
import { refusalReply, replyOf } from './run-refusals';

describe('refusalReply: what the API answers for each refusal', () => {
  it('answers the status, code, message and details the gateway passes on', () => {
    expect(refusalReply(new InvalidStartRequest('tenantId: Required'))).toEqual({ ok: false, error: { status: 400, code: 'invalid_request', message: 'tenantId: Required' } });
    expect(refusalReply(new DepthExceeded(3, 4))).toEqual({
      ok: false,
      error: { status: 422, code: 'depth_exceeded', message: 'sub-workflows nest at most 3 deep (this run would be at depth 4)' },
    });
    const issues = [{ code: 'unknown_tool', field: 'steps[0].tool', message: 'unknown tool "x"', stepId: 'a' }];
    expect(refusalReply(new InvalidWorkflow(issues as never))).toEqual({
      ok: false,
      error: { status: 422, code: 'invalid_workflow', message: 'invalid workflow definition: step a: unknown tool "x"', details: issues },
    });
    expect(refusalReply(new RunNotFound('ex_1'))).toEqual({
      ok: false,
      error: { status: 404, code: 'not_found', message: 'execution ex_1 not found', details: [{ field: 'id', message: 'unknown execution' }] },
    });
  });
});

describe('replyOf', () => {
  it('wraps a value, answers a refusal, and throws anything else on (the server answers 503)', async () => {
    await expect(replyOf(async () => ({ n: 1 }))).resolves.toEqual({ ok: true, value: { n: 1 } });
    await expect(replyOf(() => Promise.reject(new RunNotFound('ex_2')))).resolves.toMatchObject({ ok: false, error: { status: 404 } });
    await expect(replyOf(() => Promise.reject(new Error('redis went away')))).rejects.toThrow('redis went away');
    await expect(
      replyOf(() => {
        throw new Error('thrown, not rejected');
      }),
    ).rejects.toThrow('thrown, not rejected');
  });
});
