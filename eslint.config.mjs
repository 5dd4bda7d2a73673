// Lint is part of the test command: correctness rules, not formatting.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { createProjectGraphAsync } from '@nx/devkit';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// The module-boundary rule reads Nx's cached project graph and skips itself, with a mere warning,
// when there is none (a fresh clone): computing it here keeps the rule on in every run.
await createProjectGraphAsync({ exitOnError: true });

/**
 * What may import what, by the tags in each project's package.json (`nx.tags`). Nx forbids an
 * app importing an app, and a lib importing an app, whatever the tags. Tests and a lib's scripts
 * may also use `libs/testing` (tagged `type:testing`), and a lib by its own package name: they
 * exercise its published entry point.
 */
const frameworks = [
  '@nestjs/*', 'fastify', '@fastify/*', 'find-my-way', 'mongoose', 'mongodb', 'ioredis', 'bullmq', '@bull-board/*', 'nats',
  'rxjs', 'reflect-metadata', 'pino', 'pino-*', 'nestjs-pino', 'prom-client', 'openai', '@modelcontextprotocol/*',
];
const boundaries = (testing) => {
  const also = testing ? ['type:testing'] : [];
  return [
    'error',
    {
      allowCircularSelfDependency: testing,
      // Services on Node, not bundles: a test's `await import()` of a lib is no code split.
      checkDynamicDependenciesExceptions: ['@toolpath/*'],
      depConstraints: [
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:sdk'] },
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:sdk'] },
        { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: ['type:sdk', 'type:contracts', ...also] },
        // The contracts are what crosses a process boundary: data and its schemas (zod), no framework.
        { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', ...also], bannedExternalImports: frameworks },
      ],
    },
  ];
};
const testsAndScripts = ['**/*.spec.ts', '**/*.spec.tsx', '**/*.e2e-spec.ts', 'apps/*/test/**', 'libs/*/test/**', 'libs/*/scripts/**'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.data/**', 'sdk/python/**', 'bench/results/**', '.nx/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-eval': 'error',
      'no-new-func': 'error',
      'no-implied-eval': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.mjs', '**/*.cjs'],
    plugins: { '@nx': nx },
    rules: { '@nx/enforce-module-boundaries': boundaries(false) },
  },
  {
    files: testsAndScripts,
    rules: { '@nx/enforce-module-boundaries': boundaries(true) },
  },
  {
    // Tests read JSON answers; typing every response shape would add noise, not safety.
    files: ['**/*.spec.ts', '**/*.spec.tsx', '**/*.e2e-spec.ts', 'apps/*/test/**/*.ts', 'libs/*/test/**/*.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The console (apps/console) runs in the browser: React components in .tsx, browser globals.
    files: ['apps/console/**/*.tsx'],
    languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } },
  },
  {
    files: ['apps/console/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // What the component tests load into jsdom: browser and Node globals both.
    files: ['apps/console/test/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
);
