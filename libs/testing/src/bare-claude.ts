import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  agentAdapterFor,
  prepareClaudeHome,
  scriptedModelBaseUrl,
  startScriptedModel,
  type AgentPermissionMode,
  type ScriptedModel,
} from '@hangar/agents';

export interface BareTiming {
  // Start → the CLI's first output line, and → its exit.
  firstMs: number;
  doneMs: number;
}

// The Claude Code CLI run by hand, as the benchmarks hold Hangar against it: a fresh home and
// workspace each run, no sandbox, against a scripted model of its own. Its `reply` scenario by
// default; the permission mode is Claude Code's own default (as Hangar's default profile runs it)
// unless asked.
export class BareClaude {
  private count = 0;

  private constructor(
    private readonly root: string,
    private readonly model: ScriptedModel,
  ) {}

  static async start(label: string): Promise<BareClaude> {
    const root = mkdtempSync(path.join(tmpdir(), `hangar-bare-${label}-`));
    return new BareClaude(root, await startScriptedModel({ port: 0 }));
  }

  async close(): Promise<void> {
    await this.model.close();
    rmSync(this.root, { recursive: true, force: true });
  }

  async run(
    options: {
      prompt?: string;
      scenario?: string;
      permissionMode?: AgentPermissionMode;
      // Added to the CLI's environment (its OpenTelemetry settings, say).
      env?: Record<string, string>;
    } = {},
  ): Promise<BareTiming> {
    const run = (this.count += 1);
    const workspace = path.join(this.root, `run-${run}`, 'work');
    const home = path.join(this.root, `run-${run}`, 'home');
    mkdirSync(workspace, { recursive: true });
    mkdirSync(home, { recursive: true });
    const started = performance.now();
    await prepareClaudeHome({
      configDir: path.join(home, '.claude'),
      workspace,
      workspaceSeenAs: workspace,
      agents: {},
      skills: {},
      repositoryLoaded: false,
    });
    const invocation = agentAdapterFor('claude').buildInvocation({
      prompt: options.prompt ?? 'Say hello',
      homeDir: home,
      baseUrl: scriptedModelBaseUrl(this.model.url, options.scenario ?? 'reply', `bare-${run}`, 'claude'),
      apiKey: 'bench-key',
      ...(options.permissionMode ? { permissionMode: options.permissionMode } : {}),
      sandboxed: false,
    });
    return new Promise<BareTiming>((resolve, reject) => {
      const child = spawn(invocation.command, invocation.args, {
        env: { ...invocation.env, ...options.env },
        cwd: workspace,
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      let firstMs: number | undefined;
      child.stdout.on('data', () => (firstMs ??= performance.now() - started));
      child.stdin.end(invocation.stdin ?? '');
      child.on('close', (code) => {
        const doneMs = performance.now() - started;
        if (code !== 0) reject(new Error(`claude exited ${code}`));
        else resolve({ firstMs: Math.round(firstMs ?? doneMs), doneMs: Math.round(doneMs) });
      });
    });
  }

  // `count` runs, `parallel` at a time: the wall time in ms.
  async burst(
    count: number,
    parallel: number,
    options: Parameters<BareClaude['run']>[0] = {},
  ): Promise<number> {
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < count) {
        next += 1;
        await this.run(options);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return Date.now() - started;
  }
}
