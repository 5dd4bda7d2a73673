import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { DefaultPorts } from '@toolpath/contracts';
import { ToolEventWriter } from '@toolpath/event-store';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import type { RecorderConfig } from './recorder.config';
import { EventBatchWriter } from './ingest/event-batch.writer';
import { RecordToolEventsService } from './ingest/record-tool-events.service';
import { RecorderMetrics } from './ingest/recorder.metrics';

export const RECORDER_SERVICE: ServiceInfo = { name: 'recorder', defaultPort: DefaultPorts.recorder };

/** The event store's writer, built once on the platform's connection and injected (a unit test replaces it). */
export const TOOL_EVENT_WRITER: Provider = { provide: ToolEventWriter, inject: [getConnectionToken()], useFactory: (mongo: Connection) => new ToolEventWriter(mongo.db!) };

@Module({})
export class RecorderModule {
  static register(config: RecorderConfig): DynamicModule {
    return {
      module: RecorderModule,
      imports: [PlatformModule.forRoot({ service: RECORDER_SERVICE, config, uses: { nats: true, mongo: true } })],
      providers: [TOOL_EVENT_WRITER, RecorderMetrics, EventBatchWriter, RecordToolEventsService],
    };
  }
}
