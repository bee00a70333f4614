import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { agentAdapterFor, agentRuntimePaths, startWaitingAgent, type WaitingAgent } from '@hangar/agents';
import type { AgentProfile } from '@hangar/contracts';
import type { SandboxRun } from '@hangar/sandbox';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { AGENT_SANDBOX, type AgentSandbox } from '../sandbox/agent-sandbox';
import { makeHome } from './agent-launch';
import { RunnerMetrics } from './runner.metrics';
import {
  aheadRoot,
  removeLeftAhead,
  removeOwnAhead,
  removeWarmFolders,
  startsAhead,
  type WarmMiss,
} from './warm-agent';
import { WorkspaceService, type FreshWorkspace } from './workspace.service';

// Folders of spare sandboxes (under WORKSPACE_ROOT and RUNNER_HOME_ROOT): never a task's. One
// folder per runner inside (runners may share the roots: several on one host).
export const SPARE_FOLDER = '.spare';

// One sandbox started ahead of its task: bubblewrap's namespaces and mounts made and its bridge to
// the runner listening, around a new empty workspace and home, waiting for the command it is told
// to run. Not an agent: no CLI runs in it yet, nothing of a profile's is in it.
export interface SpareSandbox {
  readonly id: string;
  readonly workspace: FreshWorkspace;
  readonly homeDir: string;
  readonly process: WaitingAgent;
  // The sandbox as it was made (the run inSpareSandbox writes the launch for).
  readonly run: SandboxRun & { home: string };
}

// After a spare fails to start or exits by itself, the next start waits (doubling up to 5 min).
const MAX_BACKOFF_MS = 5 * 60_000;
// How long a task waits for a spare being made before it makes its own sandbox.
const TAKE_WAIT_MS = 2000;

// Spare sandboxes (docs/performance.md#spare-sandboxes): a cold Claude Code CLI starts in a
// sandbox made before its task came, so bubblewrap's ~20 ms, the bridge's ~15 ms and the runner's
// own fork of ~10–20 ms are off the task's way to its first event. RUNNER_SPARE_SANDBOXES of them,
// refilled as attempts end, each used by one task only; stopped with the runner.
@Injectable()
export class SpareSandboxes implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SpareSandboxes.name);
  private readonly ready: SpareSandbox[] = [];
  // Tasks waiting for a spare being made, first come first served.
  private readonly waiting: { give: (spare: SpareSandbox | undefined) => void }[] = [];
  private starting = 0;
  private closed = false;
  private backoff = { until: 0, ms: 0 };
  private retry: NodeJS.Timeout | undefined;
  private readonly enabled: boolean;
  // Where the CLI binary is: a spare is made with the same read-only paths a cold start's has.
  private readonly readOnlyPaths: readonly string[];

  constructor(
    private readonly workspaces: WorkspaceService,
    private readonly metrics: RunnerMetrics,
    @Inject(AGENT_SANDBOX) private readonly sandbox: AgentSandbox,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {
    this.enabled = config.RUNNER_SPARE_SANDBOXES > 0 && startsAhead(config, sandbox);
    this.readOnlyPaths = this.enabled ? agentRuntimePaths('claude', config.CLAUDE_BIN) : [];
  }

  async onApplicationBootstrap(): Promise<void> {
    await removeLeftAhead(this.config, SPARE_FOLDER);
    if (this.enabled) this.fill();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    for (const waiter of this.waiting.splice(0)) waiter.give(undefined);
    const all = this.ready.splice(0);
    this.metrics.spareSandboxes.set(0);
    await Promise.all(all.map((spare) => this.discard(spare, 'the runner stops')));
    await removeOwnAhead(this.config, SPARE_FOLDER);
  }

  // Whether a cold start can take a spare: a Claude Code profile that may write its workspace (a
  // planning profile's is read-only), and a task whose workspace is new and empty — what a warm
  // CLI serves (`unfit`: why a task cannot take one), an output schema too (it is an argument of
  // the launch script). A spare's mounts are made before anything is in its workspace.
  fits(profile: AgentProfile, unfit: WarmMiss | null): boolean {
    return (
      this.enabled &&
      profile.provider === 'claude' &&
      profile.permissionMode !== 'plan' &&
      (unfit === null || unfit === 'output-schema')
    );
  }

  // A waiting spare, the caller's from now on (told to run, or discarded); none when none is ready
  // or being made. One being made is waited for (TAKE_WAIT_MS at most): a task that made its own
  // sandbox meanwhile would be no sooner (the same bubblewrap and bridge to start) and would cost
  // the machine two — in a burst, where each attempt's end starts the spare the next task wants,
  // a sandbox's CPU more for every task.
  // Not replaced now: started beside the CLI that has just begun, the next spare took the cores
  // (and the runner's event loop, for its fork) from it — that CLI's first event came ~30 ms later.
  async take(): Promise<SpareSandbox | undefined> {
    let spare: SpareSandbox | undefined;
    while ((spare = this.ready.shift()) && !spare.process.isWaiting())
      // Exited, its exit not handled yet (onGone no longer finds it here): its folders go now.
      void this.discard(spare, 'it had exited');
    this.metrics.spareSandboxes.set(this.ready.length);
    if (spare || this.closed || this.waiting.length >= this.starting) return spare;
    return new Promise((resolve) => {
      const waiter = {
        give: (given: SpareSandbox | undefined) => {
          clearTimeout(timer);
          resolve(given);
        },
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        resolve(undefined);
      }, TAKE_WAIT_MS);
      this.waiting.push(waiter);
    });
  }

  // Replaces what was taken, once an attempt has ended on this runner.
  attemptEnded(): void {
    this.fill();
  }

  // Stops a spare that was not told to run (its task could not start) and removes its folders.
  async discard(spare: SpareSandbox, why: string): Promise<void> {
    await spare.process.discard(why);
    await removeWarmFolders(spare.workspace.dir, spare.homeDir).catch((error: unknown) =>
      this.logger.warn(`could not remove a spare sandbox's folders: ${String(error)}`),
    );
  }

  private fill(): void {
    if (!this.enabled || this.closed || this.retry) return;
    while (this.ready.length + this.starting < this.config.RUNNER_SPARE_SANDBOXES) {
      if (Date.now() < this.backoff.until) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.fill();
        }, this.backoff.until - Date.now());
        this.retry.unref();
        return;
      }
      this.starting += 1;
      void this.start()
        .then(
          async (spare) => {
            if (this.closed) return this.discard(spare, 'the runner stops');
            this.backoff = { until: 0, ms: 0 };
            const waiter = this.waiting.shift();
            if (waiter) return waiter.give(spare);
            this.ready.push(spare);
            this.metrics.spareSandboxes.set(this.ready.length);
          },
          (error: unknown) => {
            this.logger.warn(`could not start a spare sandbox: ${String(error)}`);
            this.delay();
            // Its task makes a sandbox of its own.
            this.waiting.shift()?.give(undefined);
          },
        )
        .finally(() => {
          this.starting -= 1;
        });
    }
  }

  private async start(): Promise<SpareSandbox> {
    const id = `spare-${randomBytes(8).toString('hex')}`;
    const homeDir = path.join(
      aheadRoot(this.config.RUNNER_HOME_ROOT, SPARE_FOLDER, this.config.RUNNER_ID),
      id,
    );
    const [workspace] = await Promise.all([
      this.workspaces.prepareFresh(
        aheadRoot(this.config.WORKSPACE_ROOT, SPARE_FOLDER, this.config.RUNNER_ID),
        id,
      ),
      makeHome(homeDir),
    ]);
    const run = {
      workspace: workspace.dir,
      home: homeDir,
      ...(this.sandbox.runnerSocket ? { runnerSocket: this.sandbox.runnerSocket } : {}),
      readOnlyPaths: this.readOnlyPaths,
      // (No folder of the workspace to hide, as for a cold start of an empty workspace: it is.)
    };
    try {
      const process = await startWaitingAgent(this.sandbox.spare(run), {
        cwd: workspace.dir,
        parser: agentAdapterFor('claude').createParser({ maxEventBytes: this.config.RUNNER_MAX_EVENT_BYTES }),
        maxEventBytes: this.config.RUNNER_MAX_EVENT_BYTES,
        nice: this.config.RUNNER_AGENT_NICE,
        niceSessions: this.config.RUNNER_AGENT_NICE_SESSIONS,
      });
      // Handed out only once up: a task moves its workspace (WorkspaceService.adopt), which
      // bubblewrap, still making its mounts, would no longer find.
      await process.ready;
      const spare = { id, workspace, homeDir, process, run };
      void process.gone.then(() => this.onGone(spare));
      return spare;
    } catch (error) {
      await removeWarmFolders(workspace.dir, homeDir);
      throw error;
    }
  }

  // A spare that exits while it waits (its sandbox failed) leaves the pool, and the next waits.
  private onGone(spare: SpareSandbox): void {
    const index = this.ready.indexOf(spare);
    if (index < 0) return;
    this.ready.splice(index, 1);
    this.metrics.spareSandboxes.set(this.ready.length);
    this.logger.warn(`spare sandbox ${spare.id} exited while waiting`);
    void removeWarmFolders(spare.workspace.dir, spare.homeDir).catch(() => undefined);
    this.delay();
    this.fill();
  }

  private delay(): void {
    const ms = Math.min(Math.max(this.backoff.ms * 2, 2500), MAX_BACKOFF_MS);
    this.backoff = { until: Date.now() + ms, ms };
  }
}
