const preset = require('../../jest.preset.cjs');

// The preset compiles .ts; the dashboard's pages are .tsx with React's automatic runtime.
module.exports = {
  ...preset,
  transform: {
    '^.+\\.tsx?$': [
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
