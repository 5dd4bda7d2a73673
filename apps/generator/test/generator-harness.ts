import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MongoClient } from 'mongodb';
import { JSONCodec, type NatsConnection } from 'nats';
import { Collections, generatorSubjects, type GeneratorReply } from '@toolpath/contracts';
import { createServiceApp, loadConfig } from '@toolpath/platform';
import { ToolRegistry } from '@toolpath/sdk';
import { connectTestNats, isolatedEnv, testNames, testUrls, type TestNames } from '@toolpath/testing';
import { toolsOfWorkflow, type WorkflowDefinitionInput } from '@toolpath/workflow';
import { generatorConfigSchema } from '../src/generator.config';
import { GeneratorModule } from '../src/generator.module';

const codec = JSONCodec<unknown>();

/** A generator app in this process, on the test's own NATS prefix and database. */
export interface GeneratorHarness {
  names: TestNames;
  nc: NatsConnection;
  mongo: MongoClient;
  app: NestFastifyApplication;
  registry: ToolRegistry;
  /** Request/reply to the generator, as the gateway does it. */
  request(subject: 'generate' | 'get', body: unknown, timeoutMs?: number): Promise<GeneratorReply<any>>;
  /** Stores a workflow in the catalog the way the gateway does (same row shape). */
  storeWorkflow(tenantId: string, id: string, definition: WorkflowDefinitionInput): Promise<void>;
  /** Stores finished runs of a workflow (the executor's rows, only the fields read here). */
  storeRuns(tenantId: string, workflowId: string, completed: number, failed: number): Promise<void>;
  close(): Promise<void>;
}

export async function startGenerator(label: string, env: Record<string, string>): Promise<GeneratorHarness> {
  const names = testNames(label);
  const nc = await connectTestNats();
  const mongo = await MongoClient.connect(testUrls.mongo);
  const config = loadConfig(generatorConfigSchema, { ...isolatedEnv(names), GENERATOR_CATALOG_TTL_MS: '50', ...env });
  const app = await createServiceApp(GeneratorModule.register(config));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const subjects = generatorSubjects(names.subjectPrefix);
  const registry = new ToolRegistry(nc, names.subjectPrefix);
  const db = mongo.db(names.mongoDb);
  let runSeq = 0;
  return {
    names,
    nc,
    mongo,
    app,
    registry,
    async request(subject, body, timeoutMs = 20_000) {
      const msg = await nc.request(subjects[subject], codec.encode(body), { timeout: timeoutMs });
      return codec.decode(msg.data) as GeneratorReply<any>;
    },
    async storeWorkflow(tenantId, id, definition) {
      const tools = toolsOfWorkflow(definition);
      const now = new Date();
      await db.collection(Collections.workflows).insertOne({ _id: `${tenantId}:${id}` as never, tenantId, id, version: 1, definition: { ...definition, id }, tools, createdAt: now, updatedAt: now });
    },
    async storeRuns(tenantId, workflowId, completed, failed) {
      const rows = [
        ...Array.from({ length: completed }, () => 'COMPLETED'),
        ...Array.from({ length: failed }, () => 'FAILED'),
      ].map((status) => ({ _id: `run_${label}_${runSeq++}` as never, tenantId, workflowId, status }));
      if (rows.length) await db.collection('executions').insertMany(rows);
    },
    async close() {
      await app.close();
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(`KV_${registry.bucket}`).catch(() => undefined);
      await nc.close();
      await db.dropDatabase().catch(() => undefined);
      await mongo.close();
    },
  };
}
