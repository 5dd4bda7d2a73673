export * from './isolation';
export * from './processes';
