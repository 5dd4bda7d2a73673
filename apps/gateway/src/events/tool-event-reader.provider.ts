import type { Provider } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { ToolEventReader } from '@toolpath/event-store';

/**
 * The gateway's read side of the event store (the recorder is its only writer), built once on the
 * platform's connection and injected by its class wherever events are read (a unit test replaces it).
 */
export const TOOL_EVENT_READER: Provider = { provide: ToolEventReader, inject: [getConnectionToken()], useFactory: (mongo: Connection) => new ToolEventReader(mongo.db!) };
