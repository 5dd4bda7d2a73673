export * from './isolation';
export * from './processes';
export * from './fake-openai-server';
export * from './private-infra';
export * from './whole-system';
