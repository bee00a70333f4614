import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SANDBOX_RUNNER_URL } from '@hangar/sandbox';
import type { AgentEvent } from '@hangar/contracts';
import {
  agentAdapterFor,
  expectedUsage,
  listDescendants,
  type ScriptedModel,
  scriptedModelBaseUrl,
  spawnAgent,
  startScriptedModel,
} from '../src';
import { AgentRunner, only, sandboxedInvocation } from './support/agent-runs';
import { groupSignalError, isProcessAlive, waitFor } from './support/processes';
import { RecordingRelay } from './support/recording-relay';

// The real Codex CLI (codex exec --json) against the scripted model's Responses API.
jest.setTimeout(60_000);

describe('Codex CLI against the scripted model', () => {
  let model: ScriptedModel;
  let rootDir: string;
  let scenariosDir: string;
  let codex: AgentRunner;
  // Runs whose requests the test reads: through a relay that keeps their bodies.
  let relay: RecordingRelay;
  let relayedCodex: AgentRunner;

  beforeAll(async () => {
    rootDir = mkdtempSync(path.join(tmpdir(), 'hangar-codex-'));
    scenariosDir = mkdtempSync(path.join(tmpdir(), 'hangar-codex-scenarios-'));
    writeFileSync(
      path.join(scenariosDir, 'cached-usage.json'),
      JSON.stringify({
        description: 'a reply billed with cache reads and writes',
        usage: {
          inputTokens: 700,
          outputTokens: 55,
          cacheReadInputTokens: 4000,
          cacheCreationInputTokens: 250,
        },
        steps: [{ text: 'Cached.' }],
      }),
    );
    writeFileSync(
      path.join(scenariosDir, 'codex-slow.json'),
      JSON.stringify({
        description: 'a command that keeps a shell busy for five minutes',
        steps: [
          {
            content: [
              {
                type: 'tool_use',
                name: 'exec_command',
                input: { cmd: 'echo waiting && sleep 300', yield_time_ms: 600000 },
              },
            ],
          },
          { text: 'Done waiting.' },
        ],
      }),
    );
    writeFileSync(
      path.join(scenariosDir, 'json-answer.json'),
      JSON.stringify({
        description: 'a final answer that is a JSON object',
        steps: [{ text: '{"summary":"done","files":2}' }],
      }),
    );
    const modelSocket = path.join(rootDir, 'model.sock');
    model = await startScriptedModel({ port: 0, scenariosDir, socketPath: modelSocket });
    codex = new AgentRunner('codex', rootDir, modelSocket);
    relay = new RecordingRelay(path.join(rootDir, 'relay.sock'), () => model.url);
    await relay.start();
    relayedCodex = new AgentRunner('codex', path.join(rootDir, 'relayed'), relay.socketPath);
  });

  afterEach(() => Promise.all([codex.stopAll(), relayedCodex.stopAll()]));

  afterAll(async () => {
    await relay.stop();
    await model.close();
    rmSync(rootDir, { recursive: true, force: true });
    rmSync(scenariosDir, { recursive: true, force: true });
  });

  it('should answer with the scripted text and report the thread as the session when the scenario is reply', async () => {
    const { exit, events, summary } = await codex.run('reply');
    expect(exit).toEqual({ exitCode: 0, signal: null, reason: 'exited' });
    expect(summary).toEqual({
      result: 'Hello from the Hangar scripted model.',
      costUsd: null,
      usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 0, cacheCreationTokens: 0 },
      numTurns: null,
      durationMs: null,
      agentSessionId: only(events, 'system.init')[0]?.data.sessionId,
      isError: false,
    });
  });

  it("should run the command inside Hangar's sandbox when the scenario is codex-shell", async () => {
    const { exit, events, workDir } = await codex.run('codex-shell');
    expect(exit.exitCode).toBe(0);
    expect(readFileSync(path.join(workDir, 'codex-output.txt'), 'utf8')).toBe('hangar\n');
    expect(only(events, 'tool.use')[0]?.data).toMatchObject({
      name: 'command_execution',
      input: { command: expect.stringContaining('echo hangar > codex-output.txt') },
    });
    expect(only(events, 'tool.result')[0]?.data).toMatchObject({ content: 'hangar\n', isError: false });
  });

  it('should report the failing command with isError and recover when the scenario is codex-tool-error', async () => {
    const { events, workDir, summary } = await codex.run('codex-tool-error');
    expect(only(events, 'tool.result').map((event) => event.data.isError)).toEqual([true, false]);
    expect(readFileSync(path.join(workDir, 'missing.txt'), 'utf8')).toBe('recovered\n');
    expect(summary.result).toBe('missing.txt did not exist, so I created it.');
  });

  it('should apply a patch and report a file change when the scenario is codex-apply-patch', async () => {
    const { events, workDir } = await codex.run('codex-apply-patch');
    expect(readFileSync(path.join(workDir, 'notes.txt'), 'utf8')).toBe('hello from hangar\n');
    expect(only(events, 'tool.use')[0]?.data).toMatchObject({ name: 'file_change' });
  });

  it('should quote turn 1 in turn 2 when the thread is resumed with exec resume (remember)', async () => {
    const first = await codex.run('remember');
    expect(first.summary.result).toBe('The secret word is PAPAYA.');
    const second = await codex.run('remember', {
      spec: { prompt: 'What did you tell me?', resumeSessionId: first.summary.agentSessionId ?? 'missing' },
      dirs: { workDir: first.workDir, homeDir: first.homeDir },
    });
    expect(second.exit.exitCode).toBe(0);
    expect(second.summary.result).toBe('Earlier I said: "The secret word is PAPAYA."');
    expect(second.summary.agentSessionId).toBe(first.summary.agentSessionId);
  });

  it('should report input without cached tokens, cache reads and cache writes as the scenario declares', async () => {
    const { summary } = await codex.run('cached-usage');
    expect(summary.usage).toEqual(await expectedUsage('cached-usage', scenariosDir));
    expect(summary.usage).toEqual({
      inputTokens: 700,
      outputTokens: 55,
      cacheReadTokens: 4000,
      cacheCreationTokens: 250,
    });
  });

  it('should send the output schema to the model as the final answer format, and end with its JSON, when the run asks for one', async () => {
    const outputSchema = {
      type: 'object',
      properties: { summary: { type: 'string' }, files: { type: 'integer' } },
      required: ['summary', 'files'],
      additionalProperties: false,
    };
    const { exit, summary } = await relayedCodex.run('json-answer', { spec: { outputSchema } });
    expect(exit).toEqual({ exitCode: 0, signal: null, reason: 'exited' });
    expect(JSON.parse(summary.result ?? '')).toEqual({ summary: 'done', files: 2 });
    const formats = relay.bodies.map(
      (body) => (JSON.parse(body) as { text?: { format?: Record<string, unknown> } }).text?.format,
    );
    expect(formats).toContainEqual(
      expect.objectContaining({ type: 'json_schema', schema: expect.objectContaining(outputSchema) }),
    );
  });

  it('should take the scenario from the prompt marker on the auto route', async () => {
    const { workDir } = await codex.run('auto', {
      spec: {
        prompt: 'Do the thing. [scenario: codex-shell]',
        baseUrl: scriptedModelBaseUrl(SANDBOX_RUNNER_URL, 'auto', 'codex-marker', 'codex'),
      },
    });
    expect(readFileSync(path.join(workDir, 'codex-output.txt'), 'utf8')).toBe('hangar\n');
  });

  it('should kill codex and the command it runs within 5 s when the run is cancelled', async () => {
    const workDir = mkdtempSync(path.join(rootDir, 'slow-'));
    const adapter = agentAdapterFor('codex');
    const events: AgentEvent[] = [];
    const handle = await spawnAgent(
      sandboxedInvocation(
        'codex',
        {
          prompt: 'wait',
          baseUrl: scriptedModelBaseUrl(SANDBOX_RUNNER_URL, 'codex-slow', 'codex-slow-1', 'codex'),
          apiKey: 'scripted-key',
        },
        { workDir, homeDir: workDir, modelSocket: codex.modelSocket, host: codex.host },
      ),
      {
        cwd: workDir,
        timeoutMs: 30_000,
        parser: adapter.createParser(),
        onEvent: (event) => events.push(event),
      },
    );
    // A failed expectation must not leave codex and its sleep running.
    try {
      const isSleep = (pid: number): boolean => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\u0000300');
        } catch {
          return false;
        }
      };
      await waitFor(
        () => listDescendants(handle.pid).some((member) => isSleep(member.pid)),
        10_000,
        'sleep 300',
      );
      await waitFor(() => only(events, 'tool.use').length > 0, 5_000, 'the tool.use event');
      expect(only(events, 'tool.use')[0]?.data.name).toBe('command_execution');
      const descendants = listDescendants(handle.pid);
      const cancelledAt = Date.now();
      handle.cancel('test cancels codex');
      expect(await handle.done).toMatchObject({ reason: 'cancelled' });
      await waitFor(() => groupSignalError(handle.pid) === 'ESRCH', 5_000, 'the group to be gone');
      for (const member of descendants) expect(isProcessAlive(member.pid)).toBe(false);
      expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    } finally {
      handle.cancel('test finished');
      await handle.done;
    }
  });

  it('should end with an error result and exit 1 when every model call fails', async () => {
    const { exit, summary } = await codex.run('fail');
    expect(exit.exitCode).toBe(1);
    expect(summary).toMatchObject({ isError: true, result: expect.stringContaining('scripted failure') });
  });
});
