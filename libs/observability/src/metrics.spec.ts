import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

// An idle service must leave the cores to the agents: its metrics registry (prom-client's default
// metrics, the event loop's delay among them) wakes the process ~10 times a second, not 100.
describe('createMetricsRegistry', () => {
  it("should wake an idle process's main thread about ten times a second, not a hundred", async () => {
    const child = `
      const { createMetricsRegistry } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist'))});
      const registry = createMetricsRegistry('idle');
      // Its main thread's voluntary context switches: each wake-up of an idle event loop is one.
      const switches = () => Number(/voluntary_ctxt_switches:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/task/' + process.pid + '/status', 'utf8'))[1]);
      setTimeout(() => {
        const before = switches();
        setTimeout(async () => {
          const woken = switches() - before;
          const text = await registry.metrics();
          console.log(JSON.stringify({ woken, lag: /^nodejs_eventloop_lag_p99_seconds/m.test(text) }));
        }, 2000);
      }, 500);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', child]);
    const { woken, lag } = JSON.parse(stdout) as { woken: number; lag: boolean };
    // prom-client's default sampling (every 10 ms) wakes it ~200 times in these 2 s.
    expect(woken).toBeLessThan(60);
    expect(lag).toBe(true);
  });
});
