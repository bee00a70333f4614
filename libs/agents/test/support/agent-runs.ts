import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type AgentEvent, type AgentEventOf, AgentEventSchema } from '@hangar/contracts';
import {
  type AgentExit,
  agentAdapterFor,
  type AgentHandle,
  type AgentProvider,
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
}

export function only<T extends AgentEvent['type']>(
  events: readonly AgentEvent[],
  type: T,
): AgentEventOf<T>[] {
  return events.filter((event): event is AgentEventOf<T> => event.type === type);
}

// Runs a real agent CLI against the scripted model, in a fresh workspace and home under rootDir.
export class AgentRunner {
  private count = 0;
  private readonly running = new Set<AgentHandle>();

  constructor(
    private readonly provider: AgentProvider,
    private readonly rootDir: string,
    private readonly modelUrl: () => string,
  ) {}

  async run(
    scenario: string,
    { spec = {}, dirs, files = {}, timeoutMs = 60_000 }: RunOptions = {},
  ): Promise<FinishedRun> {
    this.count += 1;
    const runKey = `${this.provider}-${scenario}-${this.count}`;
    const workDir = dirs?.workDir ?? path.join(this.rootDir, runKey, 'work');
    const homeDir = dirs?.homeDir ?? path.join(this.rootDir, runKey, 'home');
    mkdirSync(workDir, { recursive: true });
    mkdirSync(homeDir, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(workDir, name), content);
    const adapter = agentAdapterFor(this.provider);
    const events: AgentEvent[] = [];
    const handle = await spawnAgent(
      adapter.buildInvocation({
        prompt: `Please run the ${scenario} scenario.`,
        homeDir,
        baseUrl: scriptedModelBaseUrl(this.modelUrl(), scenario, runKey, this.provider),
        apiKey: 'scripted-key',
        ...spec,
      }),
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
