import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ToolEventReader } from '@toolpath/event-store';

/** The gateway's read side of the event store (the recorder is its only writer). */
@Injectable()
export class EventReadsService {
  readonly reader: ToolEventReader;

  constructor(@InjectConnection() connection: Connection) {
    this.reader = new ToolEventReader(connection.db!);
  }
}
