module.exports = { ...require('../../jest.preset.cjs'), testTimeout: 30000 };
