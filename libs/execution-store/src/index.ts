export * from './execution-row';
export * from './execution.reader';
export * from './run-success';
export * from './run-list';
