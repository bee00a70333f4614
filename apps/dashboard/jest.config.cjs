const preset = require('../../jest.preset.cjs');

// The preset compiles .ts; the dashboard's pages are .tsx with React's automatic runtime.
// react-markdown and the unified packages under it are ES modules only: swc turns them into
// CommonJS too, like the preset does for its own ESM-only dependencies.
module.exports = {
  ...preset,
  transformIgnorePatterns: ['/node_modules/\\.pnpm/(react|react-dom|scheduler|highlight\\.js)@'],
  transform: {
    '^.+\\.(tsx?|m?js)$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', tsx: true },
          transform: { react: { runtime: 'automatic' } },
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  testMatch: ['<rootDir>/test/**/*.spec.tsx'],
};
