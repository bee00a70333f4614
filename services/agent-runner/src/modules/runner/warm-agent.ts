import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { processesWorkingIn, startWaitingAgent, type WaitingAgent } from '@hangar/agents';
import { removeWorkspace } from '@hangar/workspaces';
import type { AgentProfile, Task } from '@hangar/contracts';
import type { AgentRunnerConfig, RunSettings } from '../../config';
import type { AgentAccessProvider, ReservedAccess } from '../endpoints/agent-access';
import { offeredProviders } from '../intake/runner-offer';
import type { AgentSandbox } from '../sandbox/agent-sandbox';
import { buildLaunch, makeHome, prepareHome, type LaunchPlace } from './agent-launch';
import type { FreshWorkspace, WorkspaceService } from './workspace.service';

// One CLI started ahead of its task: in its sandbox (or warm task pod), its workspace (an empty
// git repository, as a task without a repository gets) and home prepared, its credential
// reserved, waiting on stdin.
export interface WarmAgent {
  readonly id: string;
  readonly profile: AgentProfile;
  readonly workspace: FreshWorkspace;
  readonly homeDir: string;
  readonly access: ReservedAccess;
  readonly process: WaitingAgent;
  readonly promptInput: (prompt: string) => string;
  readonly startedAt: number;
}

// Why a task of a profile kept warm started cold (hangar_runner_warm_takes_total{reason}).
export type WarmMiss =
  | 'none-ready'
  | 'profile-changed'
  | 'repository'
  | 'shared-workspace'
  | 'conversation'
  | 'output-schema'
  | 'workspace-exists';

// Why a task cannot take a CLI started with an empty new workspace, no session and no output
// schema; null when it can.
export function warmUnfit(
  task: Pick<Task, 'repository' | 'workspaceOf' | 'conversationId' | 'outputSchema'>,
): WarmMiss | null {
  if (task.repository) return 'repository';
  if (task.workspaceOf) return 'shared-workspace';
  if (task.conversationId) return 'conversation';
  if (task.outputSchema) return 'output-schema';
  return null;
}

export const WARM_AGENTS = Symbol('WARM_AGENTS');

// Where TaskRunService finds a warm CLI for an attempt: the runner's warm pool, or the one CLI of
// a warm task pod.
export interface WarmAgents {
  // A warm CLI for this task, or why it starts cold; null when its profile is not kept warm (not
  // counted). `unfit`: why the task itself cannot take one. The CLI is the caller's from now on.
  take(profile: AgentProfile, unfit: WarmMiss | null): { agent: WarmAgent } | { miss: WarmMiss } | null;
  attemptStarted(): void;
  attemptEnded(): void;
}

export interface WarmStart {
  profile: AgentProfile;
  // Reserves the credential the CLI starts with (`sandboxed`: it reaches the runner from a sandbox).
  access: AgentAccessProvider;
  sandboxed: boolean;
  // The CLI's workspace and home are `<root>/<its id>`.
  workspaceRoot: string;
  homeRoot: string;
  workspaces: WorkspaceService;
  sandbox: AgentSandbox;
  settings: Pick<
    RunSettings,
    'CLAUDE_BIN' | 'RUNNER_MAX_EVENT_BYTES' | 'RUNNER_AGENT_NICE' | 'RUNNER_AGENT_NICE_SESSIONS'
  >;
}

// Starts the profile's CLI as a cold start would (one launch recipe, agent-launch.ts), without
// its prompt. Its folders are removed again when it cannot start.
export async function startWarmAgent(start: WarmStart): Promise<WarmAgent> {
  const { profile, sandbox, settings } = start;
  if (!start.access.reserve) throw new Error('no credential can be reserved here ahead of an attempt');
  const access = start.access.reserve(profile.provider, start.sandboxed);
  const id = `warm-${randomBytes(8).toString('hex')}`;
  const homeDir = path.join(start.homeRoot, id);
  const [workspace] = await Promise.all([
    start.workspaces.prepareFresh(start.workspaceRoot, id),
    makeHome(homeDir),
  ]);
  const place: LaunchPlace = { homeDir, workspaceDir: workspace.dir };
  try {
    await prepareHome(profile, place, sandbox);
    const { adapter, invocation } = await buildLaunch({
      profile,
      access,
      place,
      sandbox,
      claudeBin: settings.CLAUDE_BIN,
    });
    const promptInput = adapter.waitsForPrompt?.promptInput;
    if (!promptInput) throw new Error(`${profile.provider} cannot be started before its prompt`);
    const process = await startWaitingAgent(invocation, {
      cwd: workspace.dir,
      parser: adapter.createParser({ maxEventBytes: settings.RUNNER_MAX_EVENT_BYTES }),
      maxEventBytes: settings.RUNNER_MAX_EVENT_BYTES,
      nice: settings.RUNNER_AGENT_NICE,
      niceSessions: settings.RUNNER_AGENT_NICE_SESSIONS,
    });
    // Taken only once its sandbox is up: a task moves its workspace (WorkspaceService.adopt).
    await process.ready;
    return { id, profile, workspace, homeDir, access, process, promptInput, startedAt: Date.now() };
  } catch (error) {
    await removeWarmFolders(workspace.dir, homeDir);
    throw error;
  }
}

export async function removeWarmFolders(workspaceDir: string, homeDir: string): Promise<void> {
  await Promise.all([removeWorkspace(workspaceDir), rm(homeDir, { recursive: true, force: true })]);
}

// Whether this runner can start anything ahead of its tasks (warm CLIs, spare sandboxes): what it
// starts keeps its folders under paths that move to the task's, which only a sandbox (where the
// CLI sees them at fixed paths) allows; task pods have no local CLIs; only Claude Code waits for
// its prompt.
export function startsAhead(config: AgentRunnerConfig, sandbox: AgentSandbox): boolean {
  return (
    config.RUNNER_EXECUTOR === 'process' &&
    sandbox.mode === 'bwrap' &&
    offeredProviders(config).includes('claude')
  );
}

// Where this runner keeps what it starts ahead (`folder`: warm CLIs', spare sandboxes') under a
// root (WORKSPACE_ROOT, RUNNER_HOME_ROOT): a folder of its own, as runners on one host may share
// the roots.
export function aheadRoot(root: string, folder: string, runnerId: string): string {
  return path.join(root, folder, runnerId);
}

type AheadConfig = Pick<AgentRunnerConfig, 'WORKSPACE_ROOT' | 'RUNNER_HOME_ROOT' | 'RUNNER_ID'>;

// At a runner's start: what runners killed before they could clean up left in `folder`. What they
// started ahead died with them (--die-with-parent), so a runner's folder no process works in, and
// that nothing was made in for a while, is left over; this runner's own is. Another live
// runner's is not touched (what it holds would be gone under the task that takes it) — nor one
// that runner is making its first sandbox in, its folder made but no process in it yet (two
// runners starting at once: routing.e2e.spec.ts).
const LEFT_AFTER_MS = 60_000;

export async function removeLeftAhead(config: AheadConfig, folder: string): Promise<void> {
  const roots = [config.WORKSPACE_ROOT, config.RUNNER_HOME_ROOT].map((root) => path.join(root, folder));
  const runners = new Set((await Promise.all(roots.map((root) => readdir(root).catch(() => [])))).flat());
  const quietSince = Date.now() - LEFT_AFTER_MS;
  const left = [...runners].filter((runner) => {
    if (runner === config.RUNNER_ID) return true;
    const dir = path.join(config.WORKSPACE_ROOT, folder, runner);
    const changed = roots.map(
      (root) => statSync(path.join(root, runner), { throwIfNoEntry: false })?.mtimeMs ?? 0,
    );
    return Math.max(...changed) < quietSince && processesWorkingIn(dir).length === 0;
  });
  await Promise.all(
    left.flatMap((runner) =>
      roots.map((root) => rm(path.join(root, runner), { recursive: true, force: true })),
    ),
  );
}

// At a runner's stop, once what it started ahead is stopped: its own folders.
export async function removeOwnAhead(config: AheadConfig, folder: string): Promise<void> {
  await Promise.all(
    [config.WORKSPACE_ROOT, config.RUNNER_HOME_ROOT].map((root) =>
      rm(aheadRoot(root, folder, config.RUNNER_ID), { recursive: true, force: true }),
    ),
  );
}
