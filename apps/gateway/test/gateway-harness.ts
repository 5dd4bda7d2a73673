import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MongoClient } from 'mongodb';
import type { NatsConnection } from 'nats';
import { loadConfig } from '@toolpath/platform';
import { connectTestNats, createTestEventsStream, isolatedEnv, startService, testNames, testUrls, type ServiceProcess, type TestNames } from '@toolpath/testing';
import { createGatewayApp } from '../src/gateway.app';
import { gatewayConfigSchema } from '../src/gateway.config';
import { gatewayClient, type Call } from './http-client';

/** The two tenants' API keys most suites use: `acme` (the client's default) and `globex`. */
export const KEY_A = 'key-acme-0123456789abcdef';
export const KEY_B = 'key-globex-0123456789abcdef';

export interface GatewayHarnessOptions {
  /** Tenant `acme`'s key (the client's default). */
  keyA?: string;
  /** Tenant `globex`'s key. */
  keyB?: string;
  /**
   * Create a memory events stream of the suite's own before anything starts (default), so the
   * gateway leaves its limits alone (no 10 GB reservation); `false` lets the apps create it.
   */
  eventsStream?: boolean;
}

/**
 * One isolated gateway world for an e2e suite: its names (stream, subjects, Mongo database),
 * NATS and Mongo clients, an in-process gateway listening on 127.0.0.1, built apps it spawns
 * (recorder, analyzer, generator), and an HTTP client with tenant `acme`'s key. A suite adds its
 * own fields with `gatewayHarness<Extra>()`. Everything it made is removed by `teardown()`.
 */
export class GatewayHarness {
  readonly names: TestNames;
  /** The isolated settings every app of this suite starts with. */
  readonly env: Record<string, string>;
  readonly keyA: string;
  readonly keyB: string;
  nc!: NatsConnection;
  mongo!: MongoClient;
  app!: NestFastifyApplication;
  base = '';
  /** HTTP calls to this gateway; `base` is read on each call. */
  readonly call: Call;
  private readonly eventsStream: boolean;
  private readonly services: ServiceProcess[] = [];
  private readonly extraStreams: string[] = [];

  constructor(label: string, opts: GatewayHarnessOptions = {}) {
    this.names = testNames(label);
    this.env = isolatedEnv(this.names);
    this.keyA = opts.keyA ?? KEY_A;
    this.keyB = opts.keyB ?? KEY_B;
    this.eventsStream = opts.eventsStream ?? true;
    this.call = gatewayClient(() => this.base, this.keyA);
  }

  /** NATS, Mongo and (unless told otherwise) the suite's events stream. */
  async connect(): Promise<void> {
    this.nc = await connectTestNats();
    this.mongo = await MongoClient.connect(testUrls.mongo);
    if (this.eventsStream) await createTestEventsStream(this.nc, this.names);
  }

  /** Starts the gateway in this process with both tenants' keys and `extraEnv` over the isolated settings. */
  async startGateway(extraEnv: Record<string, string> = {}): Promise<NestFastifyApplication> {
    const config = loadConfig(gatewayConfigSchema, { ...this.env, TOOLPATH_API_KEYS: `${this.keyA}:acme,${this.keyB}:globex`, ...extraEnv });
    this.app = await createGatewayApp(config);
    await this.app.listen({ port: 0, host: '127.0.0.1' });
    this.base = (await this.app.getUrl()).replace('[::1]', '127.0.0.1');
    return this.app;
  }

  /** Stops the in-process gateway, so a suite can start another with other settings. */
  async stopGateway(): Promise<void> {
    const app = this.app;
    this.app = undefined as unknown as NestFastifyApplication;
    await app?.close();
  }

  /** Spawns a built app (`npx tsc -b tsconfig.build.json` first) with the isolated settings; stopped by `teardown`. */
  async startService(name: Parameters<typeof startService>[0], extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = await startService(name, { ...this.env, ...extraEnv });
    this.services.push(service);
    return service;
  }

  /** A stream the suite made besides the events stream (a KV bucket's), deleted by `teardown`. */
  deleteOnTeardown(stream: string): void {
    this.extraStreams.push(stream);
  }

  /** Stops what was started (spawned apps, then the gateway) and removes the suite's stream(s) and database. */
  async teardown(): Promise<void> {
    for (const service of this.services.splice(0).reverse()) await service.stop();
    await this.app?.close();
    if (this.nc) {
      const jsm = await this.nc.jetstreamManager();
      for (const stream of [this.names.stream, ...this.extraStreams]) await jsm.streams.delete(stream).catch(() => undefined);
      await this.nc.close();
    }
    await this.mongo?.db(this.names.mongoDb).dropDatabase().catch(() => undefined);
    await this.mongo?.close();
  }
}

/** A harness with room for the suite's own fields (`Extra`), set by the suite before use. */
export function gatewayHarness<Extra extends object = object>(label: string, opts: GatewayHarnessOptions = {}): GatewayHarness & Extra {
  return new GatewayHarness(label, opts) as GatewayHarness & Extra;
}
