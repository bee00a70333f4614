import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { AgentProfile } from '@hangar/contracts';
import { ProfileRepository } from '@hangar/db';
import { OnDemand } from '@hangar/platform';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { AGENT_ACCESS, type AgentAccessProvider } from '../endpoints/agent-access';
import { AGENT_SANDBOX, type AgentSandbox } from '../sandbox/agent-sandbox';
import { RunnerMetrics } from './runner.metrics';
import {
  aheadRoot,
  removeLeftAhead,
  removeOwnAhead,
  removeWarmFolders,
  startsAhead,
  startWarmAgent,
  type WarmAgent,
  type WarmAgents,
  type WarmMiss,
} from './warm-agent';
import { WorkspaceService } from './workspace.service';

export type { WarmAgent, WarmMiss } from './warm-agent';

// Folders of warm CLIs (under WORKSPACE_ROOT and RUNNER_HOME_ROOT): never a task's.
export const WARM_FOLDER = '.warm';

// Why a warm CLI was stopped unused.
type RetireReason = 'idle' | 'profile-changed' | 'not-wanted' | 'exited' | 'shutdown';

// After a warm CLI exits on its own within this long, its profile waits before the next try
// (doubling up to MAX_BACKOFF_MS): a CLI that cannot start must not be restarted in a loop.
const SHORT_LIVED_MS = 30_000;
const MAX_BACKOFF_MS = 5 * 60_000;

// The warm pool (docs/performance.md): per profile that asks for it (`warm`, or the runners'
// RUNNER_WARM_DEFAULT), CLIs started ahead of time, each taken by one task and never reused. The
// pool refills in the background, replaces CLIs of a changed profile and those idle too long, and
// stops them all (their process groups, their folders) when the runner stops.
@Injectable()
export class WarmPool implements WarmAgents, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WarmPool.name);
  private readonly ready = new Map<string, WarmAgent[]>();
  // Profiles (project/name) this runner keeps warm, as last read, with their ids and how many each.
  private wanted = new Map<string, { id: string; profile: AgentProfile; warm: number }>();
  private readonly listeners: (() => void)[] = [];
  // What the listeners were last told readyByProfile answers.
  private told = '{}';
  private readonly backoff = new Map<string, { until: number; ms: number }>();
  private timer: NodeJS.Timeout | undefined;
  // One pass at a time; a pass asked for during one runs after it.
  private readonly refresher = new OnDemand('warm pool refresh', async () => {
    try {
      await this.pass();
    } finally {
      this.changed();
    }
  });
  // Attempts running on this runner: the pool fills only while there are none.
  private busy = 0;
  private closed = false;
  private readonly enabled: boolean;

  constructor(
    private readonly profiles: ProfileRepository,
    private readonly workspaces: WorkspaceService,
    private readonly metrics: RunnerMetrics,
    @Inject(AGENT_SANDBOX) private readonly sandbox: AgentSandbox,
    @Inject(AGENT_ACCESS) private readonly access: AgentAccessProvider,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {
    this.enabled = config.RUNNER_WARM_MAX > 0 && startsAhead(config, sandbox);
  }

  async onApplicationBootstrap(): Promise<void> {
    await removeLeftAhead(this.config, WARM_FOLDER);
    if (!this.enabled) {
      if (this.config.RUNNER_WARM_MAX > 0 && this.config.RUNNER_EXECUTOR === 'process')
        this.logger.log(
          `no warm pool: ${this.sandbox.mode !== 'bwrap' ? 'warm CLIs need the sandbox (RUNNER_SANDBOX=bwrap)' : 'this runner has no Claude Code CLI'}`,
        );
      return;
    }
    this.logger.log(
      `warm pool: up to ${this.config.RUNNER_WARM_MAX} CLI(s), ${this.config.RUNNER_WARM_DEFAULT} per Claude Code profile that sets no warm`,
    );
    this.refresh();
    this.timer = setInterval(() => this.refresh(), this.config.RUNNER_WARM_REFRESH_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.refresher.idle();
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    this.metrics.warmAgents.set(0);
    await Promise.all(all.map((agent) => this.retire(agent, 'shutdown')));
    await removeOwnAhead(this.config, WARM_FOLDER);
  }

  // Waiting CLIs, by profile key.
  size(): number {
    return [...this.ready.values()].reduce((sum, agents) => sum + agents.length, 0);
  }

  // Waiting CLIs by profile id, as the runner registers them: the orchestrator sends a task of
  // such a profile to this runner's own queue (docs/performance.md).
  readyByProfile(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [key, agents] of this.ready) {
      const id = this.wanted.get(key)?.id;
      if (id && agents.length > 0) counts[id] = agents.length;
    }
    return counts;
  }

  // Called whenever what readyByProfile answers may have changed.
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    this.metrics.warmAgents.set(this.size());
    // (A refresh pass that changed nothing costs the runner no registration.)
    const told = JSON.stringify(this.readyByProfile());
    if (told === this.told) return;
    this.told = told;
    for (const listener of this.listeners) listener();
  }

  // Resolves once the pool has done what it is asked now (filled, or replaced what changed).
  async settled(): Promise<void> {
    await this.refresher.idle();
  }

  // A warm CLI for this task, or why it starts cold; null when its profile is not kept warm (not
  // counted). `unfit`: why the task itself cannot take a warm CLI, if it cannot. The CLI is the
  // caller's from now on: the pool forgets it and refills.
  take(profile: AgentProfile, unfit: WarmMiss | null): { agent: WarmAgent } | { miss: WarmMiss } | null {
    if (!this.enabled || !this.wanted.has(keyOf(profile))) return null;
    const outcome = this.choose(profile, unfit);
    if ('miss' in outcome) this.metrics.warmTakes.inc({ outcome: 'miss', reason: outcome.miss });
    else this.metrics.warmTakes.inc({ outcome: 'hit', reason: '' });
    this.changed();
    return outcome;
  }

  // Starting a CLI takes a core for most of a second: done while this runner runs a task, it
  // would slow that task more than a warm start saves the next one. The pool fills when the
  // runner is idle (after each attempt, and at every refresh).
  attemptStarted(): void {
    this.busy += 1;
  }

  attemptEnded(): void {
    this.busy = Math.max(0, this.busy - 1);
    if (this.busy === 0) this.refresh();
  }

  private choose(profile: AgentProfile, unfit: WarmMiss | null): { agent: WarmAgent } | { miss: WarmMiss } {
    if (unfit) return { miss: unfit };
    const agents = this.ready.get(keyOf(profile)) ?? [];
    let changed = false;
    for (;;) {
      const agent = agents.shift();
      if (!agent) return { miss: changed ? 'profile-changed' : 'none-ready' };
      if (agent.profile.updatedAt !== profile.updatedAt) {
        changed = true;
        void this.retire(agent, 'profile-changed');
      } else if (!agent.process.isWaiting()) void this.retire(agent, 'exited');
      else return { agent };
    }
  }

  refresh(): void {
    if (this.closed || !this.enabled) return;
    this.refresher.run();
  }

  private async pass(): Promise<void> {
    const cap = this.config.RUNNER_WARM_MAX;
    const rows = await this.profiles.wantingWarm(this.config.RUNNER_WARM_DEFAULT, cap);
    let left = cap;
    const wanted = new Map<string, { id: string; profile: AgentProfile; warm: number }>();
    for (const { id, profile, warm } of rows) {
      const count = Math.min(warm, left);
      if (count <= 0) continue;
      wanted.set(keyOf(profile), { id, profile, warm: count });
      left -= count;
    }
    this.wanted = wanted;

    // Replace what changed, went idle too long or is no longer asked for.
    const now = Date.now();
    const retiring: Promise<void>[] = [];
    for (const [key, agents] of this.ready) {
      const want = wanted.get(key);
      const keep: WarmAgent[] = [];
      for (const agent of agents) {
        const reason: RetireReason | null = !agent.process.isWaiting()
          ? 'exited'
          : !want
            ? 'not-wanted'
            : agent.profile.updatedAt !== want.profile.updatedAt
              ? 'profile-changed'
              : now - agent.startedAt > this.config.RUNNER_WARM_IDLE_SECONDS * 1000
                ? 'idle'
                : null;
        if (reason) retiring.push(this.retire(agent, reason));
        else keep.push(agent);
      }
      const excess = keep.splice(want?.warm ?? 0);
      for (const agent of excess) retiring.push(this.retire(agent, 'not-wanted'));
      if (keep.length > 0) this.ready.set(key, keep);
      else this.ready.delete(key);
    }
    this.changed();
    await Promise.all(retiring);

    // Fill, one CLI at a time, while no attempt runs here.
    for (const [key, { profile, warm }] of wanted) {
      if (this.busy > 0) break;
      const backoff = this.backoff.get(key);
      if (backoff && backoff.until > Date.now()) continue;
      while (!this.closed && this.busy === 0 && (this.ready.get(key)?.length ?? 0) < warm) {
        const agent = await this.start(profile).catch((error: unknown) => {
          this.logger.warn(`could not start a warm CLI for profile ${key}: ${String(error)}`);
          this.delay(key);
          return null;
        });
        if (!agent) break;
        if (this.closed || this.wanted.get(key)?.profile.updatedAt !== profile.updatedAt) {
          await this.retire(agent, this.closed ? 'shutdown' : 'profile-changed');
          break;
        }
        this.ready.set(key, [...(this.ready.get(key) ?? []), agent]);
        this.changed();
      }
    }
  }

  private async start(profile: AgentProfile): Promise<WarmAgent> {
    const agent = await startWarmAgent({
      profile,
      access: this.access,
      sandboxed: true,
      workspaceRoot: aheadRoot(this.config.WORKSPACE_ROOT, WARM_FOLDER, this.config.RUNNER_ID),
      homeRoot: aheadRoot(this.config.RUNNER_HOME_ROOT, WARM_FOLDER, this.config.RUNNER_ID),
      workspaces: this.workspaces,
      sandbox: this.sandbox,
      settings: this.config,
    });
    this.metrics.warmStarts.inc();
    void agent.process.gone.then((exit) => this.onGone(agent, exit.exitCode));
    return agent;
  }

  // A CLI that exits while it waits (not taken, not retired) leaves the pool; one that did so
  // soon after its start makes its profile wait before the next.
  private onGone(agent: WarmAgent, exitCode: number | null): void {
    const key = keyOf(agent.profile);
    const agents = this.ready.get(key);
    const index = agents?.indexOf(agent) ?? -1;
    if (!agents || index < 0) return;
    agents.splice(index, 1);
    this.changed();
    this.logger.warn(`warm CLI ${agent.id} of profile ${key} exited (${exitCode}) while waiting`);
    this.metrics.warmRetired.inc({ reason: 'exited' });
    void this.removeFolders(agent.workspace.dir, agent.homeDir);
    if (Date.now() - agent.startedAt < SHORT_LIVED_MS) this.delay(key);
    this.refresh();
  }

  private delay(key: string): void {
    const ms = Math.min((this.backoff.get(key)?.ms ?? 2500) * 2, MAX_BACKOFF_MS);
    this.backoff.set(key, { until: Date.now() + ms, ms });
  }

  private async retire(agent: WarmAgent, reason: RetireReason): Promise<void> {
    this.metrics.warmRetired.inc({ reason });
    await agent.process.discard(`warm CLI retired: ${reason}`);
    await this.removeFolders(agent.workspace.dir, agent.homeDir);
  }

  private async removeFolders(workspaceDir: string, homeDir: string): Promise<void> {
    await removeWarmFolders(workspaceDir, homeDir).catch((error: unknown) =>
      this.logger.warn(`could not remove a warm CLI's folders: ${String(error)}`),
    );
  }
}

function keyOf(profile: Pick<AgentProfile, 'project' | 'name'>): string {
  return `${profile.project}/${profile.name}`;
}
