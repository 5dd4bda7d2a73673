/**
 * One jest run over every app and lib. Sources are compiled per file (no type check here:
 * `tsc -b` type-checks in the test command), and `@toolpath/*` resolves to each lib's src so
 * tests never run against stale builds.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  // The console's component tests are *.spec.tsx, run in jsdom with Node's fetch and streams (a `@jest-environment jest-fixed-jsdom` docblock).
  testMatch: ['**/*.spec.ts', '**/*.spec.tsx', '**/*.e2e-spec.ts'],
  // One ts-jest configuration for .ts and .tsx: ts-jest keeps one per worker, so two would mix.
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] },
  moduleNameMapper: { '^@toolpath/([a-z-]+)$': '<rootDir>/libs/$1/src', '\\.css$': '<rootDir>/apps/console/test/style-stub.js' },
  setupFiles: ['<rootDir>/apps/console/test/jsdom-setup.js'],
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
  testTimeout: 60000,
  maxWorkers: 2,
};
