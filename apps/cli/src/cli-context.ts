import type { CliEnv } from './config/cli-env';
import type { ConsoleIo } from './output/console-io';
import type { FetchLike } from './api/gateway-client';

export interface CliContext {
  env: CliEnv;
  io: ConsoleIo;
  // Aborted on Ctrl-C / SIGTERM; asking for it is what turns the default "die at once" off.
  shutdownSignal(): AbortSignal;
  fetch?: FetchLike;
}

export function processShutdownSignal(): () => AbortSignal {
  let controller: AbortController | undefined;
  return () => {
    if (controller) return controller.signal;
    const created = new AbortController();
    controller = created;
    const onSignal = (): void => {
      if (!created.signal.aborted) created.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return created.signal;
  };
}
