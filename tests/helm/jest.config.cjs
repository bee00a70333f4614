// kubernetes-models and @kubernetes-models/* are ESM only: jest.resolver.cjs picks their `import`
// entry points and the preset's swc turns them into CommonJS like our own sources.
const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  // helm runs as a child process (a second or so per render); the first run also unpacks it.
  testTimeout: 120000,
  resolver: '<rootDir>/jest.resolver.cjs',
  transformIgnorePatterns: [
    '/node_modules/(?!\\.pnpm/)(?!kubernetes-models/|@kubernetes-models/|is-cidr/|cidr-regex/)',
  ],
};
