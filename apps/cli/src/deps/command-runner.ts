import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  output: string;
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

// Resolves on exit rather than on stream close: daemons (pg_ctl, redis-server) may leave a
// grandchild holding the pipes open long after the command itself is done.
export function runCommand(
  command: string,
  args: string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const chunks: string[] = [];
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      chunks.push(`\n(timed out after ${options.timeoutMs}ms)`);
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${command}: ${error.message}` });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, output: chunks.join('').trim() });
    });
  });
}

export function describeCommand(command: string, args: string[]): string {
  return [command, ...args].map((part) => (/^[\w./:=@-]+$/.test(part) ? part : `'${part}'`)).join(' ');
}
