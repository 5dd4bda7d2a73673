import { Module, type DynamicModule } from '@nestjs/common';
import { DefaultPorts } from '@toolpath/contracts';
import { PlatformModule, type ServiceInfo } from '@toolpath/platform';
import type { RecorderConfig } from './recorder.config';
import { RecordToolEventsService } from './ingest/record-tool-events.service';
import { RecorderMetrics } from './ingest/recorder.metrics';

export const RECORDER_SERVICE: ServiceInfo = { name: 'recorder', defaultPort: DefaultPorts.recorder };

@Module({})
export class RecorderModule {
  static register(config: RecorderConfig): DynamicModule {
    return {
      module: RecorderModule,
      imports: [PlatformModule.forRoot({ service: RECORDER_SERVICE, config, uses: { nats: true, mongo: true } })],
      providers: [RecorderMetrics, RecordToolEventsService],
    };
  }
}
