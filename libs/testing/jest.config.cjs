// Making a migrated database runs every migration: well under a second alone, several while the
// other packages' tests share the machine's two cores.
module.exports = { ...require('../../jest.preset.cjs'), testTimeout: 30000 };
