import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AgentEvent, type AgentEventOf, AgentEventSchema } from '@hangar/contracts';
import {
  type AgentExit,
  type AgentHandle,
  buildClaudeInvocation,
  type ClaudeRunSpec,
  expectedClaudeCostUsd,
  expectedUsage,
  listDescendants,
  type ScriptedModel,
  scriptedModelBaseUrl,
  spawnAgent,
  startScriptedModel,
  summarizeResult,
} from '../src';
import { groupSignalError, isProcessAlive, waitFor } from './support/processes';

// The real Claude Code CLI against the scripted model: files are really written, commands really run.
jest.setTimeout(60_000);

interface Run {
  handle: AgentHandle;
  events: AgentEvent[];
  workDir: string;
  homeDir: string;
  done: Promise<AgentExit>;
  // Resolves with the first event that matches.
  waitForEvent(matches: (event: AgentEvent) => boolean): Promise<AgentEvent>;
}

function only<T extends AgentEvent['type']>(events: readonly AgentEvent[], type: T): AgentEventOf<T>[] {
  return events.filter((event): event is AgentEventOf<T> => event.type === type);
}

describe('Claude Code CLI against the scripted model', () => {
  let model: ScriptedModel;
  let rootDir: string;
  let runCount = 0;
  const running: AgentHandle[] = [];

  beforeAll(async () => {
    model = await startScriptedModel({ port: 0 });
    rootDir = mkdtempSync(path.join(tmpdir(), 'hangar-cli-'));
  });

  // A failed expectation must not leave a CLI running until its timeout.
  afterEach(async () => {
    const handles = running.splice(0);
    for (const handle of handles) handle.cancel('test finished');
    await Promise.all(handles.map((handle) => handle.done));
  });

  afterAll(async () => {
    await model.close();
    rmSync(rootDir, { recursive: true, force: true });
  });

  async function startRun(
    scenario: string,
    spec: Partial<ClaudeRunSpec> = {},
    {
      timeoutMs = 30_000,
      dirs,
      files = {},
      maxOutputBytes,
    }: {
      timeoutMs?: number;
      dirs?: { workDir: string; homeDir: string };
      // Files to put in the workspace before the CLI starts.
      files?: Record<string, string>;
      maxOutputBytes?: number;
    } = {},
  ): Promise<Run> {
    runCount += 1;
    const runKey = `${scenario}-${runCount}`;
    const workDir = dirs?.workDir ?? path.join(rootDir, runKey, 'work');
    const homeDir = dirs?.homeDir ?? path.join(rootDir, runKey, 'home');
    mkdirSync(workDir, { recursive: true });
    mkdirSync(homeDir, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(workDir, name), content);
    const events: AgentEvent[] = [];
    const waiters: { matches: (event: AgentEvent) => boolean; resolve: (event: AgentEvent) => void }[] = [];
    const invocation = buildClaudeInvocation({
      prompt: `Please run the ${scenario} scenario.`,
      homeDir,
      baseUrl: scriptedModelBaseUrl(model.url, scenario, runKey),
      apiKey: 'sk-scripted',
      ...spec,
    });
    const handle = await spawnAgent(invocation, {
      cwd: workDir,
      timeoutMs,
      ...(maxOutputBytes === undefined ? {} : { maxOutputBytes }),
      onEvent: (event) => {
        events.push(event);
        for (const waiter of waiters.filter((candidate) => candidate.matches(event))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      },
    });
    running.push(handle);
    return {
      handle,
      events,
      workDir,
      homeDir,
      done: handle.done,
      waitForEvent: (matches) => {
        const seen = events.find(matches);
        if (seen) return Promise.resolve(seen);
        return new Promise((resolve) => waiters.push({ matches, resolve }));
      },
    };
  }

  async function runToEnd(
    scenario: string,
    spec: Partial<ClaudeRunSpec> = {},
    options: Parameters<typeof startRun>[2] = {},
  ) {
    const run = await startRun(scenario, spec, options);
    const exit = await run.done;
    for (const event of run.events) expect(AgentEventSchema.parse(event)).toEqual(event);
    return { ...run, exit, summary: summarizeResult(run.events) };
  }

  it('should write hello.txt with the scripted content and report deterministic cost when the scenario is write-file', async () => {
    const { exit, summary, events, workDir, homeDir } = await runToEnd('write-file');
    expect(exit).toEqual({ exitCode: 0, signal: null, reason: 'exited' });
    expect(readFileSync(path.join(workDir, 'hello.txt'), 'utf8')).toBe('hello from hangar\n');
    expect(only(events, 'tool.use')[0]?.data).toMatchObject({
      name: 'Write',
      input: { file_path: path.join(workDir, 'hello.txt') },
    });
    expect(only(events, 'tool.result')[0]?.data.isError).toBe(false);
    expect(summary).toEqual({
      result: 'Wrote hello.txt',
      costUsd: 0.0016,
      usage: { inputTokens: 200, outputTokens: 40, cacheReadTokens: 0, cacheCreationTokens: 0 },
      numTurns: 2,
      durationMs: expect.any(Number),
      agentSessionId: only(events, 'system.init')[0]?.data.sessionId,
      isError: false,
    });
    // Everything the CLI keeps lives under the per-run home; the workspace holds only the work.
    expect(readdirSync(homeDir)).toEqual(['.claude']);
    expect(readdirSync(workDir)).toEqual(['hello.txt']);
    // The session transcript sits in the project folder named after the cwd. (The CLI may add
    // others, e.g. `-tmp` for its own temporary shells, so only this one is looked for.)
    const projectOfWorkDir = workDir.replace(/[^A-Za-z0-9]/g, '-');
    expect(readdirSync(path.join(homeDir, '.claude', 'projects'))).toContain(projectOfWorkDir);
    expect(readdirSync(path.join(homeDir, '.claude', 'projects', projectOfWorkDir))).toContain(
      `${summary.agentSessionId}.jsonl`,
    );
  });

  it('should end with the StructuredOutput tool input as the result when the run asks for an output schema (structured-output)', async () => {
    const outputSchema = {
      type: 'object',
      properties: {
        verdict: { type: 'string', enum: ['approve', 'request-changes'] },
        comments: { type: 'array', items: { type: 'string' } },
      },
      required: ['verdict', 'comments'],
      additionalProperties: false,
    };
    const { exit, summary, events } = await runToEnd('structured-output', { outputSchema });
    expect(exit).toEqual({ exitCode: 0, signal: null, reason: 'exited' });
    expect(only(events, 'tool.use').map((event) => event.data.name)).toEqual(['StructuredOutput']);
    expect(JSON.parse(summary.result ?? '')).toEqual({ verdict: 'approve', comments: ['Looks good.'] });
    // One model call (100 in, 20 out), though the CLI counts the tool's result as a second turn:
    // the tool call ends the run.
    expect(summary).toMatchObject({ numTurns: 2, isError: false, costUsd: 0.0008 });
  });

  it('should not offer the StructuredOutput tool when the run asks for no output schema', async () => {
    const { exit, events } = await runToEnd('structured-output');
    expect(exit.exitCode).toBe(0);
    expect(only(events, 'tool.result')[0]?.data.isError).toBe(true);
  });

  it('should Read, Edit and cat README.md and report the cost its declared usage implies when the scenario is edit-file', async () => {
    const { exit, events, workDir, summary } = await runToEnd(
      'edit-file',
      {},
      { files: { 'README.md': '# Demo\n\nHello, world.\n' } },
    );
    expect(exit.exitCode).toBe(0);
    expect(readFileSync(path.join(workDir, 'README.md'), 'utf8')).toBe(
      '# Demo\n\nHello from Hangar, world.\n',
    );
    expect(only(events, 'tool.use').map((event) => event.data.name)).toEqual(['Read', 'Edit', 'Bash']);
    const results = only(events, 'tool.result').map((event) => event.data);
    expect(results.map((result) => result.isError)).toEqual([false, false, false]);
    expect(results[2]?.content).toContain('Hello from Hangar, world.');
    expect(summary).toMatchObject({
      result: 'Edited README.md: it now says Hello from Hangar.',
      isError: false,
      numTurns: 4,
      usage: await expectedUsage('edit-file'),
    });
    // 3 × (1200 in, 80 out, 5000 cache read, 300 cache write) + (400, 30, 6500, 0) at claude-opus-5-5 prices.
    expect(summary.usage).toEqual({
      inputTokens: 4000,
      outputTokens: 270,
      cacheReadTokens: 21_500,
      cacheCreationTokens: 900,
    });
    expect(summary.costUsd).toBeCloseTo(await expectedClaudeCostUsd('edit-file'), 12);
    expect(summary.costUsd).toBeCloseTo(0.0302, 12);
  });

  it('should report the failed tool call with isError and recover when the scenario is tool-error', async () => {
    const { exit, events, workDir, summary } = await runToEnd('tool-error');
    expect(exit.exitCode).toBe(0);
    const results = only(events, 'tool.result').map((event) => event.data);
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ isError: true, content: expect.stringContaining('does not exist') });
    expect(results[1]?.isError).toBe(false);
    expect(readFileSync(path.join(workDir, 'missing.txt'), 'utf8')).toBe('recovered\n');
    expect(summary).toMatchObject({ result: 'missing.txt did not exist, so I created it.', isError: false });
  });

  it('should quote turn 1 in turn 2 when the session is resumed in the same cwd and home (remember)', async () => {
    const first = await runToEnd('remember');
    expect(first.summary.result).toBe('The secret word is PAPAYA.');
    const second = await startRun(
      'remember',
      { prompt: 'What did you tell me?', resumeSessionId: first.summary.agentSessionId ?? 'missing' },
      { dirs: { workDir: first.workDir, homeDir: first.homeDir } },
    );
    expect((await second.done).exitCode).toBe(0);
    const summary = summarizeResult(second.events);
    // Only a request that carries turn 1 reaches step 2, and only it can quote the secret word.
    expect(summary.result).toBe('Earlier I said: "The secret word is PAPAYA."');
    expect(summary.agentSessionId).toBe(first.summary.agentSessionId);
  });

  it('should print the whole megabyte, or stop at the output limit, when the scenario is big-output', async () => {
    const full = await runToEnd('big-output');
    expect(full.exit.exitCode).toBe(0);
    expect(full.summary.result).toHaveLength(1_020_000);
    const limited = await runToEnd('big-output', {}, { maxOutputBytes: 256 * 1024 });
    expect(limited.exit).toMatchObject({ reason: 'output-limit', detail: 'output exceeded 262144 bytes' });
    expect(limited.summary).toMatchObject({ isError: true, result: null });
  });

  it('should take the scenario from the prompt marker on the auto route and on the default route', async () => {
    const auto = await runToEnd('write-file', {
      prompt: 'Create the greeting file. [scenario: write-file]',
      baseUrl: scriptedModelBaseUrl(model.url, 'auto', `marker-${runCount}`),
    });
    expect(auto.exit.exitCode).toBe(0);
    expect(readFileSync(path.join(auto.workDir, 'hello.txt'), 'utf8')).toBe('hello from hangar\n');
    const fallback = await runToEnd('bash', { prompt: '[scenario: bash] run it', baseUrl: model.url });
    expect(readFileSync(path.join(fallback.workDir, 'bash-output.txt'), 'utf8')).toBe('hangar\n');
    const unmarked = await runToEnd('reply', { prompt: 'no marker here', baseUrl: model.url });
    expect(unmarked.summary.result).toBe('Hello from the Hangar scripted model.');
  });

  it('should run the shell command and create bash-output.txt when the scenario is bash', async () => {
    const { exit, events, workDir, summary } = await runToEnd('bash');
    expect(exit.exitCode).toBe(0);
    expect(readFileSync(path.join(workDir, 'bash-output.txt'), 'utf8')).toBe('hangar\n');
    expect(only(events, 'tool.result')[0]?.data).toMatchObject({ content: 'hangar', isError: false });
    expect(summary.isError).toBe(false);
  });

  it('should run Bash under bypassPermissions even as root, because the invocation declares a sandbox', async () => {
    const { exit, workDir } = await runToEnd('bash', { permissionMode: 'bypassPermissions' });
    expect(exit.exitCode).toBe(0);
    expect(readFileSync(path.join(workDir, 'bash-output.txt'), 'utf8')).toBe('hangar\n');
  });

  it('should retry after a 429 and complete when the scenario is rate-limited', async () => {
    const { exit, events, summary } = await runToEnd('rate-limited');
    expect(exit.exitCode).toBe(0);
    expect(only(events, 'api.retry')).toEqual([
      { type: 'api.retry', data: expect.objectContaining({ attempt: 1, status: 429, error: 'rate_limit' }) },
    ]);
    expect(summary).toMatchObject({
      result: 'Answered after a rate limit.',
      isError: false,
      costUsd: 0.0008,
    });
  });

  it('should reassemble hundreds of streamed deltas into one text when the scenario is long-stream', async () => {
    const { exit, events } = await runToEnd('long-stream');
    expect(exit.exitCode).toBe(0);
    expect(
      only(events, 'assistant.text')
        .map((event) => event.data.text)
        .join(''),
    ).toBe('Hangar streams every token as it arrives. '.repeat(60));
  });

  it('should exit non-zero with an error result promptly when the scenario is fail', async () => {
    const started = Date.now();
    const { exit, summary } = await runToEnd('fail');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(exit).toMatchObject({ exitCode: 1, reason: 'exited' });
    expect(summary).toMatchObject({ isError: true, costUsd: 0 });
    expect(summary.result).toContain('API Error: 400');
  });

  it('should continue the same session with --resume when given the agent session id', async () => {
    const first = await runToEnd('write-file');
    const resumed = await startRun(
      'write-file',
      { resumeSessionId: first.summary.agentSessionId ?? 'missing' },
      { dirs: { workDir: first.workDir, homeDir: first.homeDir } },
    );
    expect((await resumed.done).exitCode).toBe(0);
    const summary = summarizeResult(resumed.events);
    expect(summary.agentSessionId).toBe(first.summary.agentSessionId);
    // Two assistant turns are in the history, so the scripted model is at step 3.
    expect(summary.result).toContain('has no step 3');
  });

  it('should stop after the turn limit when maxTurns is 1', async () => {
    const { exit, events, summary, workDir } = await runToEnd('write-file', { maxTurns: 1 });
    expect(exit.exitCode).toBe(1);
    expect(only(events, 'result')[0]?.data.subtype).toBe('error_max_turns');
    expect(summary.isError).toBe(true);
    expect(readdirSync(workDir)).toEqual(['hello.txt']);
  });

  it('should kill the whole process tree within 5 s when a slow run is cancelled', async () => {
    const run = await startRun('slow');
    await run.waitForEvent((event) => event.type === 'tool.use' && event.data.name === 'Bash');
    // The CLI runs its shell with setsid, outside the CLI's group: find the sleep wherever it is.
    const isSleep = (pid: number): boolean => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\u0000300');
      } catch {
        return false;
      }
    };
    await waitFor(
      () => listDescendants(run.handle.pid).some((member) => isSleep(member.pid)),
      10_000,
      'sleep 300 to start',
    );
    const descendants = listDescendants(run.handle.pid);
    expect(groupSignalError(run.handle.pid)).toBeUndefined();

    const cancelledAt = Date.now();
    run.handle.cancel('test cancels the slow scenario');
    const exit = await run.done;
    expect(exit).toMatchObject({ reason: 'cancelled', detail: 'test cancels the slow scenario' });
    await waitFor(
      () => groupSignalError(run.handle.pid) === 'ESRCH',
      5_000 - (Date.now() - cancelledAt),
      'ESRCH',
    );
    for (const member of descendants) expect(isProcessAlive(member.pid)).toBe(false);
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
  });

  it('should report timeout and leave no process behind when the model is too slow', async () => {
    const run = await startRun('slow-model', {}, { timeoutMs: 2_000 });
    const exit = await run.done;
    expect(exit.reason).toBe('timeout');
    expect(exit.exitCode === 0).toBe(false);
    await waitFor(() => groupSignalError(run.handle.pid) === 'ESRCH', 5_000, 'ESRCH');
    expect(summarizeResult(run.events)).toMatchObject({ isError: true, result: null });
  });
});
