// @kubernetes/client-node 1.x and three of its dependencies are ES modules only: swc turns them
// into CommonJS like our own sources (Node 20 itself loads them with require(esm) at run time).
const preset = require('../../jest.preset.cjs');
const swc = preset.transform['^.+\\.ts$'];

module.exports = {
  ...preset,
  transform: { ...preset.transform, '^.+\\.js$': swc },
  transformIgnorePatterns: [
    '/node_modules/(?!\\.pnpm/)(?!@kubernetes/client-node/|openid-client/|jose/|oauth4webapi/)',
  ],
};
