// kubernetes-models and @kubernetes-models/* are ESM only: jest.resolver.cjs picks their `import`
// entry points and swc turns them into CommonJS like our own sources.
const preset = require('../../jest.preset.cjs');
const swc = preset.transform['^.+\\.ts$'];

module.exports = {
  ...preset,
  // helm runs as a child process (a second or so per render); the first run also unpacks it.
  testTimeout: 120000,
  resolver: '<rootDir>/jest.resolver.cjs',
  transform: { ...preset.transform, '^.+\\.js$': swc },
  transformIgnorePatterns: [
    '/node_modules/(?!\\.pnpm/)(?!kubernetes-models/|@kubernetes-models/|is-cidr/|cidr-regex/)',
  ],
};
