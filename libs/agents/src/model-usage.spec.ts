import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AgentProvider } from './agent-provider';
import { ModelUsageMeter } from './model-usage';
import {
  type ScriptedModel,
  scriptedModelBaseUrl,
  startScriptedModel,
} from './scripted-model/scripted-model.server';

// The meter reads the answers of the real scripted model, in each provider's API, streamed and
// whole: each says the model and the scenario's tokens, by kind (input without the cached part).
describe(ModelUsageMeter.name, () => {
  let model: ScriptedModel;
  let dir: string;
  const usage = {
    inputTokens: 300,
    outputTokens: 40,
    cacheReadInputTokens: 1000,
    cacheCreationInputTokens: 60,
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hangar-meter-'));
    writeFileSync(
      path.join(dir, 'metered.json'),
      JSON.stringify({ usage, steps: [{ text: 'metered answer' }] }),
    );
    model = await startScriptedModel({ port: 0, scenariosDir: dir });
  });

  afterAll(async () => {
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let runs = 0;
  async function metered(provider: AgentProvider, stream: boolean) {
    const base = scriptedModelBaseUrl(model.url, 'metered', `run-${++runs}`, provider);
    const call =
      provider === 'claude'
        ? {
            url: `${base}/v1/messages`,
            body: {
              model: 'claude-haiku-4-5',
              max_tokens: 100,
              stream,
              messages: [{ role: 'user', content: 'go' }],
              // (The scripted model answers the CLIs' main loop, which offers tools, by its scenario.)
              tools: [{ name: 'Bash', description: 'runs a command', input_schema: { type: 'object' } }],
            },
          }
        : provider === 'codex'
          ? {
              url: `${base}/responses`,
              body: {
                model: 'gpt-5.5',
                stream,
                input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'go' }] }],
                tools: [{ type: 'function', name: 'exec_command' }],
              },
            }
          : {
              url: `${base}/v1beta/models/gemini-2.5-flash:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
              body: {
                contents: [{ role: 'user', parts: [{ text: 'go' }] }],
                tools: [{ functionDeclarations: [{ name: 'read_file' }] }],
              },
            };
    const response = await fetch(call.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(call.body),
    });
    expect(response.status).toBe(200);
    const meter = new ModelUsageMeter(provider, response.headers.get('content-type') ?? undefined);
    // In small pieces, as a stream passes through the gateway.
    const body = Buffer.from(await response.arrayBuffer());
    for (let at = 0; at < body.length; at += 7) meter.feed(body.subarray(at, at + 7));
    return meter.result();
  }

  it.each([
    ['claude', 'claude-haiku-4-5', 60],
    ['codex', 'gpt-5.5', 60],
    ['gemini', 'gemini-2.5-flash', 0],
  ] as const)('reads %s answers, streamed and whole', async (provider, modelName, cacheWrites) => {
    for (const stream of [true, false]) {
      expect(await metered(provider, stream)).toEqual({
        model: modelName,
        tokens: {
          // Gemini has no count of cache writes: its prompt's uncached part is input.
          inputTokens: provider === 'gemini' ? 360 : 300,
          outputTokens: 40,
          cacheReadTokens: 1000,
          cacheWriteTokens: cacheWrites,
        },
      });
    }
  });

  it('says nothing of an answer that has no usage', () => {
    const meter = new ModelUsageMeter('claude', 'application/json');
    meter.feed(Buffer.from('{"type":"error","error":{"type":"overloaded_error","message":"busy"}}'));
    expect(meter.result()).toEqual({ model: null, tokens: null });
    const cut = new ModelUsageMeter('codex', 'application/json');
    cut.feed(Buffer.from('{"model":"gpt-5.5","usage":{"input_tok'));
    expect(cut.result()).toEqual({ model: null, tokens: null });
  });
});
