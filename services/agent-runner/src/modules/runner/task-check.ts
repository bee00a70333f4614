import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import type { TaskCheck, TaskCheckResult } from '@hangar/contracts';
import { DEFAULT_AGENT_PATH } from '@hangar/agents';
import type { GitSandbox } from '@hangar/workspaces';

// What of a check's output is kept: its end, where a test runner prints what failed.
export const CHECK_OUTPUT_KEPT = 4000;

// Runs a task's check, a shell command from the workflow's definition (its author's, as the
// prompt is), in the workspace its agent worked in, once the agent completed. With the
// runner's sandbox it runs in one holding that workspace alone: no network, no home, no runner
// socket. Answers how it ended; never throws (a command that cannot start fails the check).
export function runCheck(
  check: TaskCheck,
  workspace: string,
  sandbox: GitSandbox | undefined,
): Promise<TaskCheckResult> {
  const env = { PATH: DEFAULT_AGENT_PATH, HOME: sandbox ? '/tmp' : tmpdir() };
  const inner = { command: '/bin/sh', args: ['-c', check.command], env };
  const line = sandbox ? sandbox.wrap(inner, workspace) : inner;
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    const child = spawn(line.command, line.args, {
      cwd: workspace,
      env: line.env,
      // Its own process group: a time limit stops what it started too.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-CHECK_OUTPUT_KEPT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // (gone already)
      }
    }, check.timeoutSeconds * 1000);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ exitCode: null, passed: false, output: `the check could not start: ${error.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut)
        return resolve({
          exitCode: null,
          passed: false,
          output: `${output}\n[stopped after ${check.timeoutSeconds} s]`.slice(-CHECK_OUTPUT_KEPT),
        });
      resolve({ exitCode: code, passed: code === 0, output });
    });
  });
}
