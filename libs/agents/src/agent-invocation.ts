import path from 'node:path';
import {
  hostPathOf,
  launchScript,
  SANDBOX_LAUNCH_FILE,
  sandboxCommand,
  type SandboxHost,
  type SandboxRun,
} from '@hangar/sandbox';

// How to start one agent CLI run: no shell, and an environment built from scratch.
export interface AgentInvocation {
  command: string;
  args: string[];
  env: Record<string, string>;
  // Written to the process's stdin, then closed; stdin is empty when absent.
  stdin?: string;
  // Written (mode 0600, parent directories created) just before the process starts: per-run
  // configuration that a CLI reads only from its home directory.
  files?: AgentFile[];
  // A descriptor the process says it is up on (a sandbox started ahead: @hangar/sandbox
  // SANDBOX_READY_FD); WaitingAgent.ready waits for it.
  readyFd?: number;
}

export interface AgentFile {
  path: string;
  content: string;
}

export const DEFAULT_AGENT_PATH = '/usr/local/bin:/usr/bin:/bin';
// Linux caps a single argv string at 128 KiB; longer prompts go through stdin instead.
export const MAX_PROMPT_ARG_BYTES = 100_000;

// The invocation as it runs inside a sandbox (@hangar/sandbox): bubblewrap around the command,
// and the files the CLI reads from its home written to the run's home on the host.
export function inSandbox(invocation: AgentInvocation, run: SandboxRun, host: SandboxHost): AgentInvocation {
  return {
    ...invocation,
    ...sandboxCommand(invocation, run, host),
    files: (invocation.files ?? []).map((file) => ({ ...file, path: hostPathOf(file.path, run) })),
  };
}

// The invocation for a spare sandbox of `run` (@hangar/sandbox spareSandboxCommand, started with
// startWaitingAgent): the files to write in the run's home on the host, its launch script among
// them, and what it is given on stdin (WaitingAgent.begin) — the line that runs the script, then
// the invocation's own input.
export function inSpareSandbox(
  invocation: AgentInvocation,
  run: SandboxRun & { home: string },
): { files: AgentFile[]; input: string } {
  return {
    files: [
      ...(invocation.files ?? []).map((file) => ({ ...file, path: hostPathOf(file.path, run) })),
      { path: path.join(run.home, SANDBOX_LAUNCH_FILE), content: launchScript(invocation) },
    ],
    input: `run\n${invocation.stdin ?? ''}`,
  };
}
