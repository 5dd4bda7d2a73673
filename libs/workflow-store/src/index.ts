export * from './workflow-rows';
export * from './workflow.reader';
