import type { EventKind, RejectReason, FieldIssue } from '@toolpath/contracts';

/** A row of `tool_events`: the v1 event as published, plus what the recorder adds. */
export interface StoredToolEvent {
  /** `<tenantId>:<eventId>`: the natural key, so a redelivered event can never be stored twice. */
  _id: string;
  specVersion: '1';
  kind: EventKind;
  eventId: string;
  tenantId: string;
  sessionId: string;
  userId?: string;
  agentId?: string;
  seq?: number;
  tool?: string;
  parameters?: Record<string, unknown>;
  result?: unknown;
  /** Set when `result` was larger than the recorder's cap; `result` then holds the JSON text's head. */
  resultTruncated?: boolean;
  resultBytes?: number;
  success: boolean;
  error?: string;
  startedAt: Date;
  durationMs: number;
  intent?: string;
  source?: string;
  runId?: string;
  stepId?: string;
  receivedAt: Date;
  /** JetStream sequence: consumers that must see every event once key their watermark on it. */
  streamSeq: number;
}

/** A row of `rejected_events`: what could not be stored, why, and the bytes as received. */
export interface RejectedEvent {
  /** `<stream>:<streamSeq>` (`…:analyzer` for the analyzer's), so a redelivered bad message is recorded once. */
  _id: string;
  tenantId: string | null;
  subject: string;
  reason: RejectReason;
  field: string | null;
  message: string;
  issues: FieldIssue[];
  eventId: string | null;
  raw: Buffer;
  receivedAt: Date;
  streamSeq: number;
  /**
   * Which consumer dead-lettered it, when it was not the recorder refusing it at decode: the
   * analyzer's dead letters (`_id` `<stream>:<streamSeq>:analyzer`) are of events the recorder
   * stored but that could not be learned.
   */
  consumer?: 'recorder' | 'analyzer';
  /** `processing_failed`: how many times processing was tried before giving up. */
  attempts?: number;
}
