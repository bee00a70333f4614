#!/usr/bin/env node
import { runCli } from './cli';
import { processShutdownSignal } from './cli-context';
import { CliConfigError, readCliEnv } from './config/cli-env';
import { processConsoleIo } from './output/console-io';

async function main(): Promise<number> {
  let env;
  try {
    env = readCliEnv(process.env);
  } catch (error) {
    if (!(error instanceof CliConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`hangar: config: ${problem}\n`);
    return 1;
  }
  return runCli(process.argv.slice(2), {
    env,
    io: processConsoleIo(env.color, env.interactive),
    shutdownSignal: processShutdownSignal(),
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `hangar: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
