import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type AgentEvent, type AgentEventOf, AgentEventSchema } from '@hangar/contracts';
import {
  prepareSandboxHost,
  SANDBOX_HOME,
  SANDBOX_RUNNER_URL,
  SANDBOX_WORKSPACE,
  type SandboxHost,
} from '@hangar/sandbox';
import {
  type AgentExit,
  agentAdapterFor,
  type AgentHandle,
  type AgentInvocation,
  type AgentProvider,
  agentRuntimePaths,
  inSandbox,
  prepareClaudeHome,
  type AgentRunSpec,
  type AgentRunSummary,
  scriptedModelBaseUrl,
  spawnAgent,
  summarizeResult,
} from '../../src';

export interface FinishedRun {
  exit: AgentExit;
  events: AgentEvent[];
  summary: AgentRunSummary;
  workDir: string;
  homeDir: string;
}

export interface RunOptions {
  spec?: Partial<AgentRunSpec>;
  // Reuse the workspace and home of an earlier run (a resumed session).
  dirs?: { workDir: string; homeDir: string };
  files?: Record<string, string>;
  timeoutMs?: number;
  // Claude Code: the profile's subagents and skills, placed in the run's home as the runner does.
  profile?: { agents?: Record<string, string>; skills?: Record<string, string> };
}

export function only<T extends AgentEvent['type']>(
  events: readonly AgentEvent[],
  type: T,
): AgentEventOf<T>[] {
  return events.filter((event): event is AgentEventOf<T> => event.type === type);
}

// A CLI's invocation inside Hangar's sandbox, as the runner makes it: the workspace and home of
// the host at /workspace and /home/agent, the scripted model reached through a Unix socket.
export function sandboxedInvocation(
  provider: AgentProvider,
  spec: Omit<AgentRunSpec, 'homeDir'>,
  dirs: { workDir: string; homeDir: string; modelSocket: string; host: SandboxHost },
): AgentInvocation {
  const adapter = agentAdapterFor(provider);
  const invocation = adapter.buildInvocation({ ...spec, homeDir: SANDBOX_HOME, sandboxed: true });
  const run = {
    workspace: dirs.workDir,
    home: dirs.homeDir,
    runnerSocket: dirs.modelSocket,
    readOnlyPaths: agentRuntimePaths(provider),
    ...(spec.trustRepositorySettings ? {} : { hiddenWorkspacePaths: adapter.repositoryConfigPaths }),
  };
  return inSandbox(invocation, run, dirs.host);
}

// Runs a real agent CLI inside Hangar's sandbox against the scripted model (listening on
// `modelSocket` too), in a fresh workspace and home under rootDir.
export class AgentRunner {
  private count = 0;
  private readonly running = new Set<AgentHandle>();
  readonly host: SandboxHost;

  constructor(
    private readonly provider: AgentProvider,
    private readonly rootDir: string,
    readonly modelSocket: string,
  ) {
    this.host = prepareSandboxHost({ dir: path.join(rootDir, 'sandbox-host') });
  }

  async run(
    scenario: string,
    { spec = {}, dirs, files = {}, timeoutMs = 60_000, profile = {} }: RunOptions = {},
  ): Promise<FinishedRun> {
    this.count += 1;
    const runKey = `${this.provider}-${scenario}-${this.count}`;
    const workDir = dirs?.workDir ?? path.join(this.rootDir, runKey, 'work');
    const homeDir = dirs?.homeDir ?? path.join(this.rootDir, runKey, 'home');
    mkdirSync(workDir, { recursive: true });
    mkdirSync(homeDir, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(workDir, name)), { recursive: true });
      writeFileSync(path.join(workDir, name), content);
    }
    if (this.provider === 'claude' && !dirs)
      await prepareClaudeHome({
        configDir: path.join(homeDir, '.claude'),
        workspace: workDir,
        workspaceSeenAs: SANDBOX_WORKSPACE,
        agents: profile.agents ?? {},
        skills: profile.skills ?? {},
        repositoryLoaded: spec.trustRepositorySettings ?? false,
      });
    const adapter = agentAdapterFor(this.provider);
    const events: AgentEvent[] = [];
    const { homeDir: _inside, ...specWithoutHome } = spec;
    const handle = await spawnAgent(
      sandboxedInvocation(
        this.provider,
        {
          prompt: `Please run the ${scenario} scenario.`,
          baseUrl: scriptedModelBaseUrl(SANDBOX_RUNNER_URL, scenario, runKey, this.provider),
          apiKey: 'scripted-key',
          ...specWithoutHome,
        },
        { workDir, homeDir, modelSocket: this.modelSocket, host: this.host },
      ),
      { cwd: workDir, timeoutMs, parser: adapter.createParser(), onEvent: (event) => events.push(event) },
    );
    this.running.add(handle);
    const exit = await handle.done;
    this.running.delete(handle);
    for (const event of events) expect(AgentEventSchema.parse(event)).toEqual(event);
    return { exit, events, summary: summarizeResult(events), workDir, homeDir };
  }

  // A failed expectation must not leave a CLI running until its timeout.
  async stopAll(): Promise<void> {
    const handles = [...this.running];
    for (const handle of handles) handle.cancel('test finished');
    await Promise.all(handles.map((handle) => handle.done));
  }
}
