export { EventPublisher } from './event-publisher';
export type { EventPublisherOptions, EventPublisherConnectOptions, PublisherStats } from './event-publisher';
export { ToolSession } from './tool-session';
export type { ToolSessionOptions, EndSessionOptions, SessionSink } from './tool-session';
export { buildEvent, encodeEvent, publishEncoded } from './encode-event';
export type { EncodedEvent, EventDefaults, PublishEncodedOptions } from './encode-event';
export { newEventId } from './event-id';
export { JetStreamAcks, PublishAckError } from './jetstream-acks';
export { toJsonSafe, CIRCULAR_MARKER } from './safe-json';
export {
  ToolpathSdkError,
  EventTooLargeError,
  InvalidEventError,
  PublisherClosedError,
  EventDroppedError,
  FlushTimeoutError,
} from './errors';
export type { DropReason } from './errors';
export {
  serveTool,
  callTool,
  ToolError,
  ToolCallError,
  MAX_TOOL_REPLY_BYTES,
  MAX_TOOL_ERROR_MESSAGE,
  DEFAULT_TOOL_CONCURRENCY,
  DEFAULT_DEDUPE_TTL_MS,
  DEFAULT_DEDUPE_MAX_ENTRIES,
} from './serve-tool';
export type { ToolContext, ToolHandler, ServeToolOptions, DedupeOptions, ToolServer, ToolServerStats, ToolCallErrorCode } from './serve-tool';
export {
  ToolRegistry,
  localProviderInfo,
  parseToolRegistryEntry,
  isToolEntryLive,
  onRegistryClock,
  DEFAULT_TOOL_LIST_LIMIT,
  DEFAULT_TOOL_TTL_MS,
  DEFAULT_TOOL_HEARTBEAT_MS,
} from './tool-registry';
export type { ToolRegistryEntry, ToolProviderInfo, ToolRegistration } from './tool-registry';
// The REST side: Toolpath's API typed from the gateway's OpenAPI document (generated client).
export { createToolpathClient } from '@toolpath/api-client';
export type { ToolpathClient, ToolpathClientOptions, ApiSchemas } from '@toolpath/api-client';
