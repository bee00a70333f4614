// Shared Jest settings: swc compiles TypeScript (with Nest's decorator metadata) and
// `@hangar/*` imports resolve to each lib's source, so unit tests need no prior build.
// @kubernetes/client-node 1.x and three of its dependencies are ES modules only: swc turns them
// into CommonJS like our own sources (Node 20 itself loads them with require(esm) at run time).
const path = require('node:path');

const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'commonjs' },
  },
];
const ESM_ONLY = ['@kubernetes/client-node/', 'openid-client/', 'jose/', 'oauth4webapi/'];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc, '^.+\\.js$': swc },
  transformIgnorePatterns: [`/node_modules/(?!\\.pnpm/)(?!${ESM_ONLY.join('|')})`],
  moduleNameMapper: {
    '^@hangar/testing/kubernetes$': path.join(__dirname, 'libs/testing/src/kubernetes.ts'),
    '^@hangar/db/task-state$': path.join(__dirname, 'libs/db/src/task-state.ts'),
    '^@hangar/db/workflow-state$': path.join(__dirname, 'libs/db/src/workflow-state.ts'),
    '^@hangar/([a-z-]+)$': path.join(__dirname, 'libs/$1/src/index.ts'),
  },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  reporters: ['default', ['<rootDir>/../../scripts/jest-summary-reporter.cjs', {}]],
};
