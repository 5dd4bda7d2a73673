export * from './names';
export * from './events';
export * from './validation';
export * from './errors';
export * from './executions';
export * from './generator';
export * from './builtin-tools';
export * from './analyzer';
