// Its tests talk to the real PostgreSQL, git and agent CLIs: on two cores shared with the other
// packages' tests, a cold start (Prisma's query compiler, a first connection, git) can pass 5 s.
module.exports = { ...require('../../jest.preset.cjs'), testTimeout: 30000 };
