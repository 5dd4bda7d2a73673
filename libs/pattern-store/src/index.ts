export * from './pattern-row';
export * from './pattern.reader';
