module.exports = {
  ...require('../../jest.preset.cjs'),
  testTimeout: 120000,
  setupFilesAfterEnv: ['<rootDir>/test/close-followers.ts'],
};
