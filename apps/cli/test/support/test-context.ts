import type { CliContext } from '../../src/cli-context';
import { type Env, readCliEnv } from '../../src/config/cli-env';
import { type CapturedIo, captureIo } from './captured-io';

export function testContext(env: Env = {}): CliContext & { io: CapturedIo; shutdown: AbortController } {
  const shutdown = new AbortController();
  return {
    env: readCliEnv({ PATH: process.env.PATH, ...env }, { stdout: {}, stderr: {} }),
    io: captureIo(),
    shutdownSignal: () => shutdown.signal,
    shutdown,
  };
}
