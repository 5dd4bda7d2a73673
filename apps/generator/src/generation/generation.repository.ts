import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import { GENERATIONS_COLLECTION, type GenerationConstraints, type GenerationView, type TokenUsage } from '@toolpath/contracts';

/** One model call of a generation, kept for debugging prompts and repairs. */
export interface GenerationRound {
  round: number;
  durationMs: number;
  attempts: number;
  usage: TokenUsage | null;
  responseFormat: string;
  finishReason: string | null;
  /** The answer, capped at ANSWER_CAP characters. */
  answer: string;
  /** What was wrong with it (empty for the accepted one). */
  problems: string[];
}

/** A row of `generations` (`_id` `<tenantId>:<id>`): the view plus how it came about. */
export interface GenerationRow extends Omit<GenerationView, 'createdAt'> {
  _id: string;
  tenantId: string;
  status: 'ok' | 'failed';
  prompt: string;
  constraints?: GenerationConstraints;
  roundsDetail: GenerationRound[];
  /** The system prompt's size (the prompt itself is rebuilt from the registry and catalog; not stored). */
  systemPromptChars: number;
  error?: { status: number; code: string; message: string };
  createdAt: Date;
}

export const ANSWER_CAP = 20_000;

export function newGenerationId(): string {
  return `gen_${randomBytes(10).toString('hex')}`;
}

export function generationView(row: GenerationRow): GenerationView {
  return {
    id: row.id,
    workflow: row.workflow,
    explanation: row.explanation,
    toolsUsed: row.toolsUsed,
    missingTools: row.missingTools,
    reusedWorkflows: row.reusedWorkflows,
    warnings: row.warnings,
    offline: row.offline,
    model: row.model,
    usage: row.usage,
    rounds: row.rounds,
    durationMs: row.durationMs,
    llmMs: row.llmMs,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The only code that touches `generations` (the generator is its single writer). */
@Injectable()
export class GenerationRepository {
  private readonly collection: Collection<GenerationRow>;

  constructor(@InjectConnection() connection: Connection) {
    this.collection = connection.db!.collection<GenerationRow>(GENERATIONS_COLLECTION);
  }

  /** One insert per generation, at its end (successful or not). */
  async insert(row: GenerationRow): Promise<void> {
    await this.collection.insertOne(row);
  }

  async get(tenantId: string, id: string): Promise<GenerationRow | undefined> {
    return (await this.collection.findOne({ _id: `${tenantId}:${id}` })) ?? undefined;
  }
}
