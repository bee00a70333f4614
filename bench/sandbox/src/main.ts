import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import {
  agentAdapterFor,
  agentRuntimePaths,
  type AgentInvocation,
  inSandbox,
  prepareClaudeHome,
  scriptedModelBaseUrl,
  startScriptedModel,
} from '@hangar/agents';
import {
  findExecutable,
  prepareSandboxHost,
  SANDBOX_HOME,
  SANDBOX_RUNNER_URL,
  SANDBOX_WORKSPACE,
  sandboxCommand,
  type SandboxRun,
} from '@hangar/sandbox';

// How much a sandbox costs one agent turn, and which way into it the model should be reached:
// the real Claude Code CLI against the scripted model,
// - bare: as with RUNNER_SANDBOX=off, a plain child process reaching the model over TCP;
// - socket: Hangar's sandbox (@hangar/sandbox), no network but its own loopback, the model
//   reached through one Unix socket bound in and bridged by socat (what the runner does);
// - slirp4netns: the same sandbox given a user-mode network instead (slirp4netns attached to
//   its network namespace), the model reached at the host's loopback through it (10.0.2.2).
// Each run is a fresh workspace and home; the modes take turns so that drift hits them alike.
// Startup alone (bwrap running /bin/true, with and without the socket bridge) is measured too.

type Mode = 'bare' | 'socket' | 'slirp4netns';
const MODES: readonly Mode[] = ['bare', 'socket', 'slirp4netns'];

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    scenarios: { type: 'string', default: 'reply,bash,long-stream' },
    modes: { type: 'string', default: MODES.join(',') },
  },
});
const runs = positiveInteger(values.runs, '--runs');
const scenarios = values.scenarios.split(',').filter(Boolean);
const modes = values.modes.split(',').filter(Boolean) as Mode[];
for (const mode of modes)
  if (!MODES.includes(mode)) fail(`--modes: "${mode}" is not one of ${MODES.join(', ')}`);
if (modes.includes('slirp4netns') && !findExecutable('slirp4netns', process.env['PATH'] ?? '/usr/bin:/bin'))
  fail('slirp4netns is not installed: apt-get install slirp4netns (or leave it out of --modes)');

const root = mkdtempSync(path.join(tmpdir(), 'hangar-bench-sbx-'));
const host = prepareSandboxHost({ dir: path.join(root, 'host') });
const modelSocket = path.join(host.dir, 'model.sock');

async function main(): Promise<void> {
  const model = await startScriptedModel({ socketPath: modelSocket });
  try {
    console.log(`${runs} runs of each mode per scenario, modes in turn; wall time from spawn to exit\n`);
    const startup = await measureStartup();
    printTable('startup, /bin/true', startup);
    for (const scenario of scenarios) {
      const times = new Map<Mode, number[]>(modes.map((mode) => [mode, []]));
      for (let run = 0; run < runs; run += 1)
        for (const mode of modes) times.get(mode)!.push(await agentTurn(mode, scenario, model, run));
      printTable(`claude -p, scenario "${scenario}"`, times);
    }
  } finally {
    await model.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function measureStartup(): Promise<Map<string, number[]>> {
  const workspace = path.join(root, 'startup');
  mkdirSync(workspace, { recursive: true });
  const inner = { command: '/bin/true', args: [], env: {} };
  const commands = {
    bare: inner,
    bwrap: sandboxCommand(inner, { workspace }, host),
    'bwrap + socket bridge': sandboxCommand(inner, { workspace, runnerSocket: modelSocket }, host),
  };
  const times = new Map<string, number[]>(Object.keys(commands).map((name) => [name, []]));
  for (let run = 0; run < runs * 5; run += 1)
    for (const [name, command] of Object.entries(commands)) {
      const started = process.hrtime.bigint();
      const child = spawnSync(command.command, command.args, { env: command.env, stdio: 'ignore' });
      if (child.status !== 0) fail(`${name} startup exited with ${child.status ?? child.signal}`);
      times.get(name)!.push(msSince(started));
    }
  return times;
}

// One `claude -p` run of the scenario, as the runner would start it in that mode; its time.
async function agentTurn(
  mode: Mode,
  scenario: string,
  model: { url: string; port: number },
  run: number,
): Promise<number> {
  const runKey = `${mode}-${scenario}-${run}`;
  const workspace = path.join(root, runKey, 'work');
  const home = path.join(root, runKey, 'home');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(home, { recursive: true });
  const sandboxed = mode !== 'bare';
  await prepareClaudeHome({
    configDir: path.join(home, '.claude'),
    workspace,
    workspaceSeenAs: sandboxed ? SANDBOX_WORKSPACE : workspace,
    agents: {},
    skills: {},
    repositoryLoaded: false,
  });
  const serverUrl = {
    bare: model.url,
    socket: SANDBOX_RUNNER_URL,
    // slirp4netns's default gateway forwards to the host's loopback.
    slirp4netns: `http://10.0.2.2:${model.port}`,
  }[mode];
  const adapter = agentAdapterFor('claude');
  const invocation = adapter.buildInvocation({
    prompt: `Please run the ${scenario} scenario.`,
    homeDir: sandboxed ? SANDBOX_HOME : home,
    baseUrl: scriptedModelBaseUrl(serverUrl, scenario, runKey, 'claude'),
    apiKey: 'bench-key',
    permissionMode: 'bypassPermissions',
    sandboxed,
  });
  const sandboxRun: SandboxRun = {
    workspace,
    home,
    readOnlyPaths: agentRuntimePaths('claude'),
    hiddenWorkspacePaths: adapter.repositoryConfigPaths,
    ...(mode === 'socket' ? { runnerSocket: modelSocket } : {}),
  };
  // With slirp4netns, the command waits inside until its network is configured (a default route).
  const inner = mode === 'slirp4netns' ? { ...invocation, ...waitingForRoute(invocation) } : invocation;
  const command = sandboxed ? inSandbox(inner, sandboxRun, host) : invocation;
  for (const file of command.files ?? []) {
    mkdirSync(path.dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.content, { mode: 0o600 });
  }
  const started = process.hrtime.bigint();
  const output =
    mode === 'slirp4netns' ? await runWithSlirp(command, workspace) : await runToEnd(command, workspace);
  const elapsed = msSince(started);
  if (!output.includes('"subtype":"success"'))
    fail(`${mode} run of "${scenario}" did not succeed; its output:\n${output.slice(-2000)}`);
  if (scenario === 'bash' && !output.includes('hangar'))
    fail(`${mode} run of "bash" did not run its command; its output:\n${output.slice(-2000)}`);
  return elapsed;
}

function runToEnd(command: AgentInvocation, cwd: string): Promise<string> {
  const child = spawn(command.command, command.args, {
    env: command.env,
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(command.stdin ?? '');
  return collect(child.stdout, child.stderr, new Promise((resolve) => child.on('close', resolve)));
}

function waitingForRoute(invocation: AgentInvocation): Pick<AgentInvocation, 'command' | 'args'> {
  const wait = `until grep -q '^tap0\t00000000' /proc/net/route; do sleep 0.005; done; exec "$@"`;
  return { command: '/bin/sh', args: ['-c', wait, 'wait-for-route', invocation.command, ...invocation.args] };
}

// slirp4netns is attached to the sandbox's network namespace, found through bwrap's --info-fd.
async function runWithSlirp(command: AgentInvocation, cwd: string): Promise<string> {
  const child = spawn(command.command, ['--info-fd', '3', ...command.args], {
    env: command.env,
    cwd,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(command.stdin ?? '');
  const closed = new Promise((resolve) => child.on('close', resolve));
  const output = collect(child.stdout, child.stderr, closed);
  const info = JSON.parse(await textUntil(child.stdio[3] as Readable, '}')) as { 'child-pid': number };
  const slirp = spawn(
    'slirp4netns',
    // By path: by pid, setns(CLONE_NEWNET) fails (EPERM) for a sandbox with its own /dev.
    ['--configure', '--mtu=65520', '--netns-type=path', `/proc/${info['child-pid']}/ns/net`, 'tap0'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    return await output;
  } finally {
    slirp.kill();
  }
}

async function collect(stdout: Readable, stderr: Readable, closed: Promise<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
  await closed;
  return Buffer.concat(chunks).toString('utf8');
}

// What a stream says until `end` shows up in it (a JSON object, a ready byte).
function textUntil(stream: Readable, end: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (!text.includes(end)) return;
      stream.off('data', onData);
      resolve(text);
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.once('end', () => reject(new Error(`closed before saying "${end}": ${text}`)));
  });
}

function printTable(title: string, times: Map<string, number[]>): void {
  const [baseline] = times.values();
  const base = median(baseline!);
  console.log(`${title}\n`);
  console.log('| mode | runs | median ms | p90 ms | min ms | max ms | median vs first |');
  console.log('| ---- | ---- | --------- | ------ | ------ | ------ | --------------- |');
  for (const [mode, samples] of times) {
    const sorted = [...samples].sort((a, b) => a - b);
    const p90 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)]!;
    console.log(
      `| ${mode} | ${samples.length} | ${fixed(median(samples))} | ${fixed(p90)} | ${fixed(sorted[0]!)} | ${fixed(sorted.at(-1)!)} | ${(median(samples) / base).toFixed(2)}× |`,
    );
  }
  console.log('');
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function fixed(ms: number): string {
  return ms.toFixed(1);
}

function msSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function positiveInteger(value: string, name: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    fail(`${name} must be a whole number of at least 1, not "${value}"`);
  return parsed;
}

function fail(message: string): never {
  console.error(`bench sandbox: ${message}`);
  process.exit(2);
}

void main().catch((error: unknown) => {
  console.error(error);
  rmSync(root, { recursive: true, force: true });
  process.exit(1);
});
