import { spawn } from 'node:child_process';
import type { GitCommandLine } from './git.runner';

export interface GroupExit {
  exitCode: number | null;
  timedOut: boolean;
  // Set when the command could not start at all.
  startError?: NodeJS.ErrnoException;
}

// Runs a command line without a shell (every argument reaches it as it is), in its own process
// group, so a time limit — or `kill`, which the output handlers get — ends what it started too;
// execFile cannot do the latter. What git and a task's check run on.
export function runInProcessGroup(
  line: GitCommandLine,
  options: {
    cwd?: string;
    timeoutMs: number;
    onStdout(chunk: Buffer, kill: () => void): void;
    onStderr(chunk: Buffer): void;
  },
): Promise<GroupExit> {
  return new Promise((resolve) => {
    const child = spawn(line.command, line.args, {
      cwd: options.cwd,
      env: line.env,
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    const settle = (exit: GroupExit) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(exit);
    };
    child.stdout.on('data', (chunk: Buffer) => options.onStdout(chunk, kill));
    child.stderr.on('data', (chunk: Buffer) => options.onStderr(chunk));
    child.on('error', (error: NodeJS.ErrnoException) =>
      settle({ exitCode: null, timedOut: false, startError: error }),
    );
    child.on('close', (exitCode) => settle({ exitCode, timedOut }));
  });
}
