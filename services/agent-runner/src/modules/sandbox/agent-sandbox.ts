import { rmSync } from 'node:fs';
import path from 'node:path';
import { type AgentInvocation, inSandbox } from '@hangar/agents';
import type { TaskSandbox } from '@hangar/contracts';
import {
  prepareSandboxHost,
  probeSandbox,
  SANDBOX_GIT_DIR,
  SANDBOX_WORKSPACE,
  sandboxCommand,
  spareSandboxCommand,
  type SandboxHost,
  type SandboxRun,
} from '@hangar/sandbox';
import type { GitSandbox } from '@hangar/workspaces';

export const AGENT_SANDBOX = Symbol('AGENT_SANDBOX');

// This checkout or image: the runner's code, configuration and the tree it was started from.
const INSTALL_ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');

// How this process isolates the agents it runs:
// - bwrap: each CLI in its own bubblewrap sandbox (@hangar/sandbox), reaching the runner only
//   through one Unix socket;
// - pod: a task pod of the kubernetes executor, itself the boundary (run-task.js);
// - off: the CLI runs as a plain child process (RUNNER_SANDBOX=off, warned on every task).
export class AgentSandbox {
  private host: SandboxHost | undefined;

  private constructor(
    readonly mode: 'bwrap' | 'off' | 'pod',
    private readonly hiddenPaths: readonly string[],
  ) {}

  static forRunner(config: {
    RUNNER_SANDBOX: 'bwrap' | 'off';
    WORKSPACE_ROOT: string;
    RUNNER_HOME_ROOT: string;
  }) {
    return new AgentSandbox(config.RUNNER_SANDBOX, [
      INSTALL_ROOT,
      config.WORKSPACE_ROOT,
      config.RUNNER_HOME_ROOT,
    ]);
  }

  static pod(): AgentSandbox {
    return new AgentSandbox('pod', []);
  }

  get taskSandbox(): TaskSandbox {
    return this.mode === 'off' ? 'none' : this.mode;
  }

  // The runner's socket for sandboxes, in the host's support folder (its path must stay short).
  get runnerSocket(): string | undefined {
    return this.host ? path.join(this.host.dir, 'runner.sock') : undefined;
  }

  // At start, before anything listens: a runner that cannot make sandboxes refuses to start
  // (one line, naming the way out) rather than run agents unprotected.
  async check(): Promise<void> {
    if (this.mode !== 'bwrap') return;
    try {
      this.host = prepareSandboxHost({ hiddenPaths: this.hiddenPaths });
      await probeSandbox(this.host);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `RUNNER_SANDBOX=bwrap: ${reason}. Run the agent-runner where unprivileged user namespaces are allowed, or set RUNNER_SANDBOX=off to run agents unsandboxed (not for untrusted repositories)`,
      );
    }
  }

  // Its support folder (in the system's temporary folder: the runner's socket path must stay
  // short) goes with the runner, once nothing runs in a sandbox any more: each start of a runner
  // left one behind.
  dispose(): void {
    if (this.host) rmSync(this.host.dir, { recursive: true, force: true });
  }

  // Where git on a workspace an agent worked in runs: a sandbox holding that workspace alone,
  // without network, home or runner socket.
  gitSandbox(): GitSandbox | undefined {
    const host = this.host;
    if (this.mode !== 'bwrap' || !host) return undefined;
    return {
      workspaceSeenAs: SANDBOX_WORKSPACE,
      gitDirSeenAs: SANDBOX_GIT_DIR,
      wrap: (command, workspace, gitDir) =>
        sandboxCommand(command, { workspace, ...(gitDir !== undefined ? { gitDir } : {}) }, host),
    };
  }

  // A sandbox for `run` started before its command is known: its process waits for the line that
  // runs the launch script in its home (@hangar/agents inSpareSandbox).
  spare(run: SandboxRun & { home: string }): AgentInvocation {
    if (!this.host) throw new Error('the sandbox was not checked before use');
    return spareSandboxCommand(run, this.host);
  }

  // The invocation as it runs inside this runner's sandbox.
  wrap(invocation: AgentInvocation, run: SandboxRun): AgentInvocation {
    if (!this.host) throw new Error('the sandbox was not checked before use');
    return inSandbox(invocation, run, this.host);
  }
}
