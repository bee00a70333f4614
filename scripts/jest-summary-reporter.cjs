// Writes <package>/test-results/summary.json after each Jest run, so scripts/test-all.mjs
// can print one total over every package, and under it what failed: the end of a long run's
// output is often all of it that is kept (CI keeps a part).
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const dir = path.join(this.rootDir, 'test-results');
    fs.mkdirSync(dir, { recursive: true });
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      suitesFailed: results.numFailedTestSuites,
      failures: failuresOf(this.rootDir, results).slice(0, MAX_FAILURES),
    };
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary) + '\n');
  }
}

const MAX_FAILURES = 20;

// Each failed test (or suite that could not run): where, its name, and the first lines of why.
function failuresOf(rootDir, results) {
  return results.testResults.flatMap((file) => {
    const where = path.relative(rootDir, file.testFilePath);
    if (file.testExecError || (file.failureMessage && file.numFailingTests === 0))
      return [
        {
          where,
          name: '(the suite did not run)',
          why: firstLines(file.failureMessage ?? file.testExecError?.message),
        },
      ];
    return file.testResults
      .filter((test) => test.status === 'failed')
      .map((test) => ({ where, name: test.fullName, why: firstLines(test.failureMessages.join('\n')) }));
  });
}

function firstLines(text = '') {
  return text
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '' && !/^\s+at /.test(line))
    .slice(0, 6);
}

module.exports = SummaryReporter;
