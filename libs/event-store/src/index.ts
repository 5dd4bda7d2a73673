export * from './stored-event';
export * from './indexes';
export * from './cursor';
export * from './tool-event.writer';
export * from './tool-event.reader';
export { arrivalMillis } from './arrival-time';
export { isStoreOutage, storeAnswers } from './store-outage';
