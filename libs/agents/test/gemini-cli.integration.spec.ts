import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SANDBOX_RUNNER_URL } from '@hangar/sandbox';
import { expectedUsage, type ScriptedModel, scriptedModelBaseUrl, startScriptedModel } from '../src';
import { AgentRunner, only } from './support/agent-runs';

// The real Gemini CLI (gemini -p … --output-format stream-json) against the scripted model's
// streamGenerateContent API. Without --model the CLI first asks a router model (a side call,
// 10 in / 2 out); with a model named, it does not.
jest.setTimeout(60_000);

describe('Gemini CLI against the scripted model', () => {
  let model: ScriptedModel;
  let rootDir: string;
  let scenariosDir: string;
  let gemini: AgentRunner;

  beforeAll(async () => {
    rootDir = mkdtempSync(path.join(tmpdir(), 'hangar-gemini-'));
    scenariosDir = mkdtempSync(path.join(tmpdir(), 'hangar-gemini-scenarios-'));
    writeFileSync(
      path.join(scenariosDir, 'cached-usage.json'),
      JSON.stringify({
        description: 'a reply billed with cache reads',
        usage: {
          inputTokens: 700,
          outputTokens: 55,
          cacheReadInputTokens: 4000,
          cacheCreationInputTokens: 0,
        },
        steps: [{ text: 'Cached.' }],
      }),
    );
    // The prompt decides: only a run asked for structured output gets the JSON answer.
    writeFileSync(
      path.join(scenariosDir, 'json-answer.json'),
      JSON.stringify({
        description: 'a JSON answer when the prompt asks for one, else a sentence',
        steps: [{ text: 'Nobody asked for JSON.' }],
        cases: [{ promptIncludes: '"summary"', steps: [{ text: '{"summary":"done","files":2}' }] }],
      }),
    );
    const modelSocket = path.join(rootDir, 'model.sock');
    model = await startScriptedModel({ port: 0, scenariosDir, socketPath: modelSocket });
    gemini = new AgentRunner('gemini', rootDir, modelSocket);
  });

  afterEach(() => gemini.stopAll());

  afterAll(async () => {
    await model.close();
    rmSync(rootDir, { recursive: true, force: true });
    rmSync(scenariosDir, { recursive: true, force: true });
  });

  it('should answer with the scripted text, counting the router call, when the scenario is reply', async () => {
    const { exit, events, summary } = await gemini.run('reply');
    expect(exit).toEqual({ exitCode: 0, signal: null, reason: 'exited' });
    expect(summary).toEqual({
      result: 'Hello from the Hangar scripted model.',
      costUsd: null,
      usage: { inputTokens: 110, outputTokens: 22, cacheReadTokens: 0, cacheCreationTokens: 0 },
      numTurns: null,
      durationMs: expect.any(Number),
      agentSessionId: only(events, 'system.init')[0]?.data.sessionId,
      isError: false,
    });
  });

  it('should report exactly the scenario usage, cached tokens apart, when a model is named', async () => {
    const { summary } = await gemini.run('cached-usage', { spec: { model: 'gemini-2.5-flash' } });
    expect(summary.usage).toEqual(await expectedUsage('cached-usage', scenariosDir));
  });

  it('should run the shell command under yolo when the scenario is gemini-shell', async () => {
    const { exit, events, workDir } = await gemini.run('gemini-shell', {
      spec: { permissionMode: 'bypassPermissions' },
    });
    expect(exit.exitCode).toBe(0);
    expect(readFileSync(path.join(workDir, 'gemini-output.txt'), 'utf8')).toBe('hangar\n');
    expect(only(events, 'tool.result')[0]?.data).toMatchObject({ content: 'hangar', isError: false });
  });

  it('should stop with an error result after the turn limit when maxTurns is 1', async () => {
    const { exit, summary, workDir, homeDir } = await gemini.run('gemini-shell', {
      spec: { permissionMode: 'bypassPermissions', maxTurns: 1, model: 'gemini-2.5-flash' },
    });
    expect(exit.exitCode).toBe(53);
    expect(summary).toMatchObject({ isError: true, result: expect.stringContaining('max session turns') });
    expect(readFileSync(path.join(workDir, 'gemini-output.txt'), 'utf8')).toBe('hangar\n');
    // The settings that carry the limit live in the per-run home, readable by the run alone.
    expect(statSync(path.join(homeDir, '.gemini', 'settings.json')).mode & 0o777).toBe(0o600);
  });

  it('should report the failed read with isError and recover with write_file when the scenario is gemini-tool-error', async () => {
    const { events, workDir, summary } = await gemini.run('gemini-tool-error');
    expect(only(events, 'tool.result').map((event) => event.data.isError)).toEqual([true, false]);
    expect(readFileSync(path.join(workDir, 'missing.txt'), 'utf8')).toBe('recovered\n');
    expect(summary.result).toBe('missing.txt did not exist, so I created it.');
  });

  it('should quote turn 1 in turn 2 when the session is resumed with --resume (remember)', async () => {
    const first = await gemini.run('remember');
    expect(first.summary.result).toBe('The secret word is PAPAYA.');
    const second = await gemini.run('remember', {
      spec: { prompt: 'What did you tell me?', resumeSessionId: first.summary.agentSessionId ?? 'missing' },
      dirs: { workDir: first.workDir, homeDir: first.homeDir },
    });
    expect(second.exit.exitCode).toBe(0);
    expect(second.summary.result).toBe('Earlier I said: "The secret word is PAPAYA."');
  });

  it('should ask for the JSON in the prompt when the run has an output schema, which the scenario answers by case', async () => {
    const outputSchema = {
      type: 'object',
      properties: { summary: { type: 'string' }, files: { type: 'integer' } },
      required: ['summary', 'files'],
    };
    const asked = await gemini.run('json-answer', { spec: { outputSchema, model: 'gemini-2.5-flash' } });
    expect(asked.exit.exitCode).toBe(0);
    expect(JSON.parse(asked.summary.result ?? '')).toEqual({ summary: 'done', files: 2 });
    const plain = await gemini.run('json-answer', { spec: { model: 'gemini-2.5-flash' } });
    expect(plain.summary.result).toBe('Nobody asked for JSON.');
  });

  it('should take the scenario from the prompt marker on the auto route', async () => {
    const { summary } = await gemini.run('auto', {
      spec: {
        prompt: '[scenario: remember] go',
        baseUrl: scriptedModelBaseUrl(SANDBOX_RUNNER_URL, 'auto', 'gemini-marker', 'gemini'),
      },
    });
    expect(summary.result).toBe('The secret word is PAPAYA.');
  });
});
