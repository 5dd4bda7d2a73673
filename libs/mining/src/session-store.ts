import { compactParameters, compactResult } from './compact-value';
import { Growable } from './growable-array';
import type { ClosedSession, SessionStep } from './mining-types';

/** Strings to small integers, so counting works on numbers. */
export class Interner {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  id(name: string): number {
    let i = this.ids.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.ids.set(name, i);
    }
    return i;
  }

  find(name: string): number | undefined {
    return this.ids.get(name);
  }

  static from(names: string[]): Interner {
    const t = new Interner();
    for (const n of names) t.id(n);
    return t;
  }
}

const SUCCESS_BIT = 0x8000;
const MAX_CODE = 0x7fff;
/** 32,766 log steps from 1 ms to about 11 days: relative error under 0.04%. */
const LOG_BASE = Math.log(1e9) / (MAX_CODE - 1);

export function encodeDuration(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(MAX_CODE, 1 + Math.round(Math.log(ms + 1) / LOG_BASE));
}

const DECODED = new Float64Array(MAX_CODE + 1);
for (let c = 1; c <= MAX_CODE; c++) DECODED[c] = Math.max(0, Math.exp((c - 1) * LOG_BASE) - 1);

export function decodeDuration(code: number): number {
  return DECODED[code & MAX_CODE];
}

export const isSuccessCode = (code: number): boolean => (code & SUCCESS_BIT) !== 0;

/** Longest intent text kept per session (intents are interned; a longer one is cut). */
const MAX_INTENT_LENGTH = 500;
const MAX_LABEL_LENGTH = 200;
const MAX_ERROR_LENGTH = 500;

/** Session end state: no session_end, failed, succeeded. */
export const ENDED_NONE = 0;
export const ENDED_FAILED = 1;
export const ENDED_OK = 2;

/**
 * Every session the counter has seen, compactly: tool ids and one 16-bit word per step
 * (success bit + log-coded duration), plus per-session metadata. This is what lets a pattern
 * that becomes frequent late be counted exactly over the older sessions (see README). Step
 * payloads (parameters, results) are kept only for a window of recent sessions, and for the
 * sessions patterns keep as examples.
 */
export class SessionStore {
  readonly tools = new Interner();
  readonly users = new Interner();
  readonly agents = new Interner();
  readonly intents = new Interner();

  stepTools = new Growable(Int32Array, 4096);
  stepCodes = new Growable(Uint16Array, 4096);
  /** offsets[i] .. offsets[i+1]: the steps of session i. */
  offsets = new Growable(Int32Array, 1024);
  sessionUser = new Growable(Int32Array, 1024);
  sessionAgent = new Growable(Int32Array, 1024);
  sessionIntent = new Growable(Int32Array, 1024);
  sessionEnded = new Growable(Uint8Array, 1024);
  sessionStart = new Growable(Float64Array, 1024);
  sessionEnd = new Growable(Float64Array, 1024);
  sessionIds: string[] = [];
  /**
   * The sessions as runs (what patterns are counted over): consecutive calls of the same tool
   * are one run, so a loop of one tool is one step of a pattern whatever its length. Derived
   * from stepTools/stepCodes (rebuilt, never stored in snapshots): per run its tool, the index
   * of its first call in the session, its length, whether its last call succeeded and the sum of
   * its calls' durations.
   */
  runTools = new Growable(Int32Array, 4096);
  runFirst = new Growable(Int32Array, 4096);
  runLength = new Growable(Int32Array, 4096);
  runOk = new Growable(Uint8Array, 4096);
  runDuration = new Growable(Float64Array, 4096);
  /** runOffsets[i] .. runOffsets[i+1]: the runs of session i. */
  runOffsets = new Growable(Int32Array, 1024);
  /**
   * Bounded step payloads of the last `payloadWindow` sessions, and of older sessions still
   * kept as a pattern's example (counted in payloadRefs).
   */
  readonly payloads = new Map<number, SessionStep[]>();
  payloadRefs = new Growable(Int32Array, 1024);

  constructor(
    private readonly payloadWindow: number,
    private readonly maxSessionSteps: number,
  ) {
    if (this.offsets.length === 0) this.offsets.push(0);
    if (this.runOffsets.length === 0) this.runOffsets.push(0);
  }

  get runCount(): number {
    return this.runTools.length;
  }

  get sessionCount(): number {
    return this.sessionIds.length;
  }

  get stepCount(): number {
    return this.stepTools.length;
  }

  /** Appends a session; returns its index and whether it was clipped to maxSessionSteps. */
  append(s: ClosedSession): { index: number; clipped: boolean } {
    const steps = s.steps.length > this.maxSessionSteps ? s.steps.slice(0, this.maxSessionSteps) : s.steps;
    const index = this.sessionIds.length;
    this.sessionIds.push(s.sessionId);
    this.stepTools.reserve(this.stepTools.length + steps.length);
    this.stepCodes.reserve(this.stepCodes.length + steps.length);
    for (const step of steps) {
      this.stepTools.push(this.tools.id(toolLabel(step.tool)));
      this.stepCodes.push(encodeDuration(step.durationMs) | (step.success ? SUCCESS_BIT : 0));
    }
    this.offsets.push(this.stepTools.length);
    this.appendRuns(index);
    this.sessionUser.push(s.userId ? this.users.id(s.userId.slice(0, MAX_LABEL_LENGTH)) : -1);
    this.sessionAgent.push(s.agentId ? this.agents.id(s.agentId.slice(0, MAX_LABEL_LENGTH)) : -1);
    this.sessionIntent.push(s.intent ? this.intents.id(s.intent.slice(0, MAX_INTENT_LENGTH)) : -1);
    this.sessionEnded.push(s.ended || s.success !== undefined ? (s.success ? ENDED_OK : ENDED_FAILED) : ENDED_NONE);
    this.sessionStart.push(Number.isFinite(s.startedAt) ? s.startedAt : 0);
    this.sessionEnd.push(Number.isFinite(s.endedAt) ? s.endedAt : 0);
    this.payloadRefs.push(0);
    if (this.payloadWindow > 0) {
      this.payloads.set(index, steps.map(compactStep));
      const leaving = index - this.payloadWindow;
      if (leaving >= 0 && this.payloadRefs.data[leaving] === 0) this.payloads.delete(leaving);
    }
    return { index, clipped: steps.length < s.steps.length };
  }

  /** Derives the runs of session i (the last one whose steps are stored) from its steps. */
  private appendRuns(i: number): void {
    const from = this.offsets.data[i];
    const to = this.offsets.data[i + 1];
    const tools = this.stepTools.data;
    const codes = this.stepCodes.data;
    let r = -1;
    for (let k = from; k < to; k++) {
      const code = codes[k];
      if (r >= 0 && tools[k] === tools[k - 1]) {
        this.runLength.data[r]++;
        this.runOk.data[r] = isSuccessCode(code) ? 1 : 0;
        this.runDuration.data[r] += decodeDuration(code);
        continue;
      }
      this.runTools.push(tools[k]);
      this.runFirst.push(k - from);
      this.runLength.push(1);
      this.runOk.push(isSuccessCode(code) ? 1 : 0);
      r = this.runDuration.push(decodeDuration(code));
    }
    this.runOffsets.push(this.runTools.length);
  }

  /** Rebuilds every session's runs (after the steps were loaded from a snapshot). */
  rebuildRuns(): void {
    this.runTools = new Growable(Int32Array, Math.max(16, this.stepTools.length));
    this.runFirst = new Growable(Int32Array, Math.max(16, this.stepTools.length));
    this.runLength = new Growable(Int32Array, Math.max(16, this.stepTools.length));
    this.runOk = new Growable(Uint8Array, Math.max(16, this.stepTools.length));
    this.runDuration = new Growable(Float64Array, Math.max(16, this.stepTools.length));
    this.runOffsets = new Growable(Int32Array, Math.max(16, this.sessionCount + 1));
    this.runOffsets.push(0);
    for (let i = 0; i < this.sessionCount; i++) this.appendRuns(i);
  }

  /** The runs' tool ids of session i (a view: valid until the next append). */
  runsOf(i: number): Int32Array {
    return this.runTools.data.subarray(this.runOffsets.data[i], this.runOffsets.data[i + 1]);
  }

  runOffset(i: number): number {
    return this.runOffsets.data[i];
  }

  /** A pattern keeps session i as an example: its payload stays after it leaves the window. */
  retain(i: number): boolean {
    if (!this.payloads.has(i)) return false;
    this.payloadRefs.data[i]++;
    return true;
  }

  release(i: number): void {
    if (i < 0 || --this.payloadRefs.data[i] > 0) return;
    if (i < this.sessionCount - this.payloadWindow) this.payloads.delete(i);
  }

  /** The tool ids of session i (a view: valid until the next append). */
  toolsOf(i: number): Int32Array {
    return this.stepTools.data.subarray(this.offsets.data[i], this.offsets.data[i + 1]);
  }

  stepOffset(i: number): number {
    return this.offsets.data[i];
  }
}

export function toolLabel(tool: unknown): string {
  if (typeof tool !== 'string' || tool === '') return '(unnamed)';
  return tool.length > MAX_LABEL_LENGTH ? tool.slice(0, MAX_LABEL_LENGTH) : tool;
}

export function compactStep(step: SessionStep): SessionStep {
  const parameters = compactParameters(step.parameters);
  const compacted = step.result === undefined ? undefined : compactResult(step.result);
  const result = compacted?.value;
  return {
    tool: toolLabel(step.tool),
    ...(parameters !== undefined ? { parameters } : {}),
    ...(result !== undefined ? { result } : {}),
    ...(compacted?.jsonText || step.resultJsonText === true ? { resultJsonText: true } : {}),
    success: step.success === true,
    ...(typeof step.error === 'string' ? { error: step.error.slice(0, MAX_ERROR_LENGTH) } : {}),
    durationMs: Number.isFinite(step.durationMs) ? step.durationMs : 0,
    startedAt: Number.isFinite(step.startedAt) ? step.startedAt : 0,
  };
}
