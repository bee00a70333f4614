// Some specs start node processes of their own (a service's start, a busy heap): beside every other
// package's tests on a 2-core machine they take seconds, not the default 5 s limit's fraction.
module.exports = { ...require('../../jest.preset.cjs'), testTimeout: 30000 };
