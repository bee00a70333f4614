import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SERVICE_PROCESS_ENV } from './process-env';

// What SERVICE_PROCESS_ENV is for: a service that has freed large blocks gives their memory back.
// The child does what a service's heap does over a day: one large buffer freed (after which glibc
// by default keeps blocks below its size in its arenas), then megabyte buffers, each followed by a
// small one that outlives it, freed. It prints how much more it holds resident afterwards (MB).
const CHILD = `
const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
const settle = () => new Promise((resolve) => setTimeout(() => { gc(); setTimeout(resolve, 200); }, 50));
(async () => {
  let large = Buffer.alloc(8 << 20, 1);
  large = null;
  await settle();
  const before = rss();
  const kept = [];
  let blocks = [];
  for (let i = 0; i < 24; i += 1) {
    blocks.push(Buffer.alloc((1 << 20) + i * 4096, 1));
    kept.push(Buffer.alloc(64 << 10, 1));
  }
  blocks = null;
  await settle();
  console.log(rss() - before, kept.length);
})();
`;

async function heldAfterFreeing(env: Record<string, string>): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '-e', CHILD], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  return Number(stdout.split(' ')[0]);
}

describe('SERVICE_PROCESS_ENV', () => {
  it('should make a process give back the ~25 MB of megabyte blocks it freed, which it keeps without', async () => {
    const [without, withEnv] = await Promise.all([
      heldAfterFreeing({}),
      heldAfterFreeing({ ...SERVICE_PROCESS_ENV }),
    ]);
    expect(without).toBeGreaterThan(20);
    expect(withEnv).toBeLessThan(5);
  });
});
