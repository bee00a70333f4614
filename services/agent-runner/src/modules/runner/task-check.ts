import { tmpdir } from 'node:os';
import type { TaskCheck, TaskCheckResult } from '@hangar/contracts';
import { DEFAULT_AGENT_PATH } from '@hangar/agents';
import { runInProcessGroup, type GitSandbox } from '@hangar/workspaces';

// What of a check's output is kept: its end, where a test runner prints what failed.
export const CHECK_OUTPUT_KEPT = 4000;

// Runs a task's check, a shell command from the workflow's definition (its author's, as the
// prompt is), in the workspace its agent worked in, once the agent completed. With the
// runner's sandbox it runs in one holding that workspace alone: no network, no home, no runner
// socket; in its own process group (as git does), so its time limit stops what it started too.
// Answers how it ended; never throws (a command that cannot start fails the check).
export async function runCheck(
  check: TaskCheck,
  workspace: string,
  sandbox: GitSandbox | undefined,
): Promise<TaskCheckResult> {
  const env = { PATH: DEFAULT_AGENT_PATH, HOME: sandbox ? '/tmp' : tmpdir() };
  const inner = { command: '/bin/sh', args: ['-c', check.command], env };
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-CHECK_OUTPUT_KEPT);
  };
  const exit = await runInProcessGroup(sandbox ? sandbox.wrap(inner, workspace) : inner, {
    cwd: workspace,
    timeoutMs: check.timeoutSeconds * 1000,
    onStdout: keep,
    onStderr: keep,
  });
  if (exit.startError)
    return { exitCode: null, passed: false, output: `the check could not start: ${exit.startError.message}` };
  if (exit.timedOut)
    return {
      exitCode: null,
      passed: false,
      output: `${output}\n[stopped after ${check.timeoutSeconds} s]`.slice(-CHECK_OUTPUT_KEPT),
    };
  return { exitCode: exit.exitCode, passed: exit.exitCode === 0, output };
}
