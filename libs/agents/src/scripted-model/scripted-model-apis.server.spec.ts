import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseSse } from '../../test/support/sse';
import { sampleOf } from './gemini-generate.protocol';
import { responsesStepIndex, ResponsesRequestSchema } from './openai-responses.protocol';
import {
  type ScriptedModel,
  scriptedModelBaseUrl,
  type ScriptedRequestRecord,
  startScriptedModel,
} from './scripted-model.server';

// The OpenAI Responses and Gemini APIs of the scripted model, the prompt marker and the
// history template; the Anthropic API has its own spec.
function responsesRequest({ replies = 0, stream = true, prompt = 'go' } = {}) {
  const input: Record<string, unknown>[] = [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex.' }] },
    {
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: '<environment_context>\n  <cwd>/w/task 1</cwd>\n</environment_context>' },
      ],
    },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] },
  ];
  for (let reply = 0; reply < replies; reply += 1) {
    input.push(
      { type: 'reasoning', summary: [] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `reply ${reply}` }] },
      { type: 'function_call', call_id: `c${reply}`, name: 'exec_command', arguments: '{}' },
      { type: 'function_call_output', call_id: `c${reply}`, output: 'ok' },
    );
  }
  return { model: 'gpt-5.5', stream, input, tools: [{ type: 'function', name: 'exec_command' }] };
}

function geminiRequest({ replies = 0, prompt = 'go', tools = true } = {}) {
  const contents: Record<string, unknown>[] = [
    {
      role: 'user',
      parts: [
        { text: '<session_context>\n- **Workspace Directories:**\n  - /w/gem\n</session_context>' },
        { text: prompt },
      ],
    },
  ];
  for (let reply = 0; reply < replies; reply += 1) {
    contents.push(
      { role: 'model', parts: [{ text: `part ${reply}a ` }, { text: `part ${reply}b` }] },
      { role: 'model', parts: [{ functionCall: { name: 'read_file', args: {} } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'read_file', response: {} } }] },
    );
  }
  return {
    contents,
    ...(tools ? { tools: [{ functionDeclarations: [{ name: 'read_file' }] }] } : {}),
  };
}

function parseGeminiSse(text: string): Record<string, unknown>[] {
  return text
    .split('\r\n\r\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => JSON.parse(frame.slice('data: '.length)) as Record<string, unknown>);
}

describe('scripted model APIs', () => {
  let model: ScriptedModel;
  let extraDir: string;
  const records: ScriptedRequestRecord[] = [];
  const post = (urlPath: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${model.url}${urlPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const responsesPath = (scenario: string, runKey: string): string =>
    `${new URL(scriptedModelBaseUrl(model.url, scenario, runKey, 'codex')).pathname}/responses`;
  const geminiPath = (scenario: string, runKey: string, method = 'streamGenerateContent'): string =>
    `${new URL(scriptedModelBaseUrl(model.url, scenario, runKey, 'gemini')).pathname}/v1beta/models/gemini-2.5-flash:${method}`;

  beforeAll(async () => {
    extraDir = mkdtempSync(path.join(tmpdir(), 'hangar-apis-'));
    writeFileSync(
      path.join(extraDir, 'mixed.json'),
      JSON.stringify({
        usage: {
          inputTokens: 300,
          outputTokens: 40,
          cacheReadInputTokens: 1000,
          cacheCreationInputTokens: 60,
        },
        steps: [
          {
            content: [
              { type: 'thinking', thinking: 'in {{cwd}}' },
              { type: 'text', text: 'Running.' },
              { type: 'tool_use', name: 'exec_command', input: { cmd: 'ls {{cwd}}' } },
            ],
            chunkSize: 4,
          },
          { text: 'last was: {{history.lastAssistantText}}' },
        ],
      }),
    );
    writeFileSync(
      path.join(extraDir, 'by-prompt.json'),
      JSON.stringify({
        steps: [{ text: 'no case matched' }],
        cases: [
          { promptIncludes: 'Review', steps: [{ text: 'review 1' }, { text: 'review 2' }] },
          { promptIncludes: 'Plan', steps: [{ text: 'plan 1' }] },
        ],
      }),
    );
    writeFileSync(
      path.join(extraDir, 'limited.json'),
      JSON.stringify({
        steps: [{ errors: [{ status: 429, times: 1, retryAfterSeconds: 0 }], text: 'after' }],
      }),
    );
    model = await startScriptedModel({
      port: 0,
      scenariosDir: extraDir,
      onRequest: (record) => records.push(record),
    });
  });

  afterAll(async () => {
    await model.close();
    rmSync(extraDir, { recursive: true, force: true });
  });

  describe('OpenAI Responses', () => {
    it('should stream reasoning, text and a function call as Responses events, then usage with cached tokens', async () => {
      const response = await post(responsesPath('mixed', 'r1'), responsesRequest(), {
        'session-id': 'thread-1',
      });
      expect(response.status).toBe(200);
      const events = parseSse(await response.text());
      expect(events.every((event) => event.event === event.data['type'])).toBe(true);
      expect(events.map((event) => event.data['sequence_number'])).toEqual(
        events.map((_event, index) => index),
      );
      const types = events.map((event) => event.event);
      expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
      expect(types.at(-1)).toBe('response.completed');
      expect(types.filter((type) => type === 'response.output_item.done')).toHaveLength(3);
      const textDeltas = events.filter((event) => event.event === 'response.output_text.delta');
      expect(textDeltas.map((event) => event.data['delta']).join('')).toBe('Running.');
      expect(textDeltas).toHaveLength(2);
      const completed = events.at(-1)?.data['response'] as Record<string, unknown>;
      expect(completed['output']).toEqual([
        {
          id: expect.stringMatching(/^rs_/),
          type: 'reasoning',
          summary: [{ type: 'summary_text', text: 'in /w/task 1' }],
        },
        expect.objectContaining({
          type: 'message',
          role: 'assistant',
          content: [expect.objectContaining({ text: 'Running.' })],
        }),
        {
          id: 'fc_toolu_scripted_0_2',
          type: 'function_call',
          status: 'completed',
          call_id: 'toolu_scripted_0_2',
          name: 'exec_command',
          arguments: JSON.stringify({ cmd: 'ls /w/task 1' }),
        },
      ]);
      expect(completed['usage']).toEqual({
        input_tokens: 1360,
        input_tokens_details: { cached_tokens: 1000, cache_write_tokens: 60 },
        output_tokens: 40,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 1400,
      });
    });

    it('should find the step from earlier replies and quote the last assistant text', async () => {
      const response = await post(
        responsesPath('mixed', 'r2'),
        responsesRequest({ replies: 1, stream: false }),
      );
      expect(await response.json()).toMatchObject({
        object: 'response',
        status: 'completed',
        output: [{ type: 'message', content: [{ type: 'output_text', text: 'last was: reply 0' }] }],
      });
    });

    it('should answer scripted errors in the OpenAI shape with retry-after', async () => {
      const limited = await post(responsesPath('limited', 'r3'), responsesRequest());
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('0');
      expect(await limited.json()).toEqual({
        error: {
          message: 'scripted 429 rate_limit_error',
          type: 'rate_limit_exceeded',
          param: null,
          code: null,
        },
      });
    });

    it('should count each run of model items as one earlier reply', () => {
      const request = ResponsesRequestSchema.parse(responsesRequest({ replies: 3 }));
      expect(responsesStepIndex(request)).toBe(3);
      expect(responsesStepIndex(ResponsesRequestSchema.parse({ input: 'hi' }))).toBe(0);
    });
  });

  describe('Gemini', () => {
    it('should stream text in pieces and a function call whole, with usage on the last chunk', async () => {
      const response = await post(`${geminiPath('mixed', 'g1')}?alt=sse`, geminiRequest());
      expect(response.status).toBe(200);
      const chunks = parseGeminiSse(await response.text());
      const parts = chunks.flatMap(
        (chunk) =>
          (chunk['candidates'] as { content: { parts: Record<string, unknown>[] } }[])[0]?.content.parts ??
          [],
      );
      expect(
        parts
          .filter((part) => part['thought'] === true)
          .map((part) => part['text'])
          .join(''),
      ).toBe('in /w/gem');
      expect(
        parts
          .filter((part) => part['thought'] === undefined && part['text'] !== undefined)
          .map((part) => part['text'])
          .join(''),
      ).toBe('Running.');
      expect(parts.at(-1)).toEqual({ functionCall: { name: 'exec_command', args: { cmd: 'ls /w/gem' } } });
      expect(chunks.slice(0, -1).every((chunk) => chunk['usageMetadata'] === undefined)).toBe(true);
      expect(chunks.at(-1)).toMatchObject({
        candidates: [{ finishReason: 'STOP' }],
        usageMetadata: {
          promptTokenCount: 1360,
          candidatesTokenCount: 40,
          cachedContentTokenCount: 1000,
          totalTokenCount: 1400,
        },
      });
    });

    it('should join the earlier reply parts for the history template on generateContent', async () => {
      const response = await post(
        geminiPath('mixed', 'g2', 'generateContent'),
        geminiRequest({ replies: 1 }),
      );
      expect(await response.json()).toMatchObject({
        candidates: [{ content: { role: 'model', parts: [{ text: 'last was: part 0a part 0b' }] } }],
      });
    });

    it('should answer a side call that asks for JSON with a value of its schema', async () => {
      const response = await post(geminiPath('reply', 'g3', 'generateContent'), {
        ...geminiRequest({ tools: false }),
        generationConfig: {
          responseMimeType: 'application/json',
          responseJsonSchema: {
            type: 'OBJECT',
            properties: {
              reasoning: { type: 'STRING' },
              score: { type: 'INTEGER' },
              next: { type: 'STRING', enum: ['user', 'model'] },
            },
          },
        },
      });
      const body = (await response.json()) as { candidates: { content: { parts: { text: string }[] } }[] };
      expect(JSON.parse(body.candidates[0]?.content.parts[0]?.text ?? '')).toEqual({
        reasoning: 'scripted',
        score: 1,
        next: 'user',
      });
      expect(sampleOf({ type: 'array' })).toEqual([]);
    });

    it('should answer errors in the Google shape and count tokens', async () => {
      const limited = await post(geminiPath('limited', 'g4'), geminiRequest());
      expect(limited.status).toBe(429);
      expect(await limited.json()).toEqual({
        error: { code: 429, message: 'scripted 429 rate_limit_error', status: 'RESOURCE_EXHAUSTED' },
      });
      const missing = await post(geminiPath('no-such-scenario', 'g5'), geminiRequest());
      expect(await missing.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
      const counted = await post(geminiPath('reply', 'g6', 'countTokens'), geminiRequest());
      expect(await counted.json()).toEqual({ totalTokens: expect.any(Number) });
    });
  });

  describe('cases', () => {
    const responsesText = async (runKey: string, prompt: string, replies = 0) => {
      const response = await post(
        responsesPath('by-prompt', runKey),
        responsesRequest({ prompt, replies, stream: false }),
      );
      const body = (await response.json()) as { output: { content: { text: string }[] }[] };
      return body.output[0]?.content[0]?.text;
    };
    const geminiText = async (runKey: string, prompt: string, replies = 0) => {
      const response = await post(
        geminiPath('by-prompt', runKey, 'generateContent'),
        geminiRequest({ prompt, replies }),
      );
      const body = (await response.json()) as { candidates: { content: { parts: { text: string }[] } }[] };
      return body.candidates[0]?.content.parts[0]?.text;
    };

    it("should choose the case by the prompt after Codex's environment context, for every step of the run", async () => {
      expect(await responsesText('rc1', 'Review this')).toBe('review 1');
      expect(await responsesText('rc1', 'Review this', 1)).toBe('review 2');
      expect(await responsesText('rc2', 'Plan and Review')).toBe('review 1');
      expect(await responsesText('rc3', 'Plan it')).toBe('plan 1');
      expect(await responsesText('rc4', 'something else')).toBe('no case matched');
    });

    it("should choose the case by the prompt after the Gemini CLI's session context, for every step of the run", async () => {
      expect(await geminiText('gc1', 'Review this')).toBe('review 1');
      expect(await geminiText('gc1', 'Review this', 1)).toBe('review 2');
      expect(await geminiText('gc2', 'Plan it')).toBe('plan 1');
      expect(await geminiText('gc3', 'something else')).toBe('no case matched');
    });
  });

  describe('scenario marker', () => {
    it('should take the scenario from the first user marker on the default route of every API', async () => {
      records.length = 0;
      const anthropic = await post('/v1/messages', {
        model: 'claude-opus-5-5',
        tools: [{}],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'please [scenario: limited] now' }] }],
      });
      expect(anthropic.status).toBe(429);
      await anthropic.text();
      const codex = await post(
        '/v1/responses',
        responsesRequest({ prompt: '[scenario: remember]', stream: false }),
      );
      expect(await codex.json()).toMatchObject({
        output: [{ content: [{ text: 'The secret word is PAPAYA.' }] }],
      });
      const gemini = await post(
        '/v1beta/models/m:generateContent',
        geminiRequest({ prompt: '[scenario: remember]' }),
      );
      expect(await gemini.json()).toMatchObject({
        candidates: [{ content: { parts: [{ text: 'The secret word is PAPAYA.' }] } }],
      });
      expect(records.map((record) => [record.api, record.scenario, record.runKey])).toEqual([
        ['anthropic', 'limited', 'default'],
        ['openai-responses', 'remember', 'default'],
        ['gemini', 'remember', 'default'],
      ]);
    });

    it('should use the marker on the auto route, reply without one, and 404 for an unknown one', async () => {
      const marked = await post(
        responsesPath('auto', 'm1'),
        responsesRequest({ prompt: 'x [scenario: remember]', stream: false }),
      );
      expect(await marked.json()).toMatchObject({
        output: [{ content: [{ text: 'The secret word is PAPAYA.' }] }],
      });
      const unmarked = await post(responsesPath('auto', 'm2'), responsesRequest({ stream: false }));
      expect(await unmarked.json()).toMatchObject({
        output: [{ content: [{ text: 'Hello from the Hangar scripted model.' }] }],
      });
      const unknown = await post(
        responsesPath('auto', 'm3'),
        responsesRequest({ prompt: '[scenario: nope-nope]' }),
      );
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({
        error: { message: expect.stringContaining('"nope-nope"') },
      });
    });
  });
});
