module.exports = { ...require('../../jest.preset.cjs'), testTimeout: 180000 };
