import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { blockDeltas, parseSse } from '../../test/support/sse';
import {
  errorForAttempt,
  type ScriptedModel,
  scriptedModelBaseUrl,
  type ScriptedRequestRecord,
  startScriptedModel,
} from './scripted-model.server';

interface RequestOptions {
  assistantTurns?: number;
  stream?: boolean;
  tools?: boolean;
  cwd?: string | null;
  prompt?: string;
  // A text the user adds with each tool result (Claude Code's reminders do so).
  laterText?: string;
}

function messagesRequest({
  assistantTurns = 0,
  stream = true,
  tools = true,
  cwd = '/work/task',
  prompt = 'go',
  laterText,
}: RequestOptions = {}) {
  const messages: { role: string; content: unknown }[] = [
    {
      role: 'user',
      content: [
        { type: 'text', text: '<system-reminder>context</system-reminder>' },
        { type: 'text', text: prompt },
      ],
    },
  ];
  if (cwd !== null) {
    messages.push({
      role: 'system',
      content: [
        {
          type: 'text',
          text: `# Environment\n - Primary working directory: ${cwd}\n - Is a git repository: false`,
        },
      ],
    });
  }
  for (let turn = 0; turn < assistantTurns; turn += 1) {
    messages.push(
      { role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${turn}`, name: 'Write', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: `toolu_${turn}`, content: 'ok' },
          ...(laterText ? [{ type: 'text', text: laterText }] : []),
        ],
      },
    );
  }
  return {
    model: 'claude-opus-5-5',
    max_tokens: 32_000,
    stream,
    messages,
    ...(tools ? { tools: [{ name: 'Write', input_schema: { type: 'object' } }] } : {}),
  };
}

describe('scripted model server', () => {
  let model: ScriptedModel;
  let extraDir: string;
  const records: ScriptedRequestRecord[] = [];

  const post = (urlPath: string, body: unknown): Promise<Response> =>
    fetch(`${model.url}${urlPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-claude-code-session-id': 'session-1' },
      body: JSON.stringify(body),
    });
  const messagesPath = (scenario: string, runKey: string): string =>
    `${new URL(scriptedModelBaseUrl(model.url, scenario, runKey)).pathname}/v1/messages?beta=true`;

  beforeAll(async () => {
    extraDir = mkdtempSync(path.join(tmpdir(), 'hangar-scenarios-'));
    writeFileSync(
      path.join(extraDir, 'custom.json'),
      JSON.stringify({
        description: 'a user scenario',
        steps: [{ text: 'run {{runKey}} of {{scenario}} at step {{step}} in session {{sessionId}}' }],
      }),
    );
    writeFileSync(path.join(extraDir, 'reply.json'), JSON.stringify({ steps: [{ text: 'shadowed reply' }] }));
    writeFileSync(
      path.join(extraDir, 'flaky.json'),
      JSON.stringify({
        steps: [
          {
            errors: [
              { status: 529, times: 1 },
              { status: 500, times: 1, message: 'boom' },
            ],
            text: 'finally',
          },
        ],
      }),
    );
    writeFileSync(
      path.join(extraDir, 'by-prompt.json'),
      JSON.stringify({
        steps: [{ text: 'no case matched' }],
        cases: [
          {
            promptIncludes: 'Review',
            steps: [
              {
                errors: [{ status: 529, times: 1 }],
                content: [{ type: 'tool_use', name: 'Write', input: { file_path: '{{cwd}}/review.md' } }],
              },
              { text: 'reviewed at step {{step}}' },
            ],
          },
          { promptIncludes: 'Plan', steps: [{ text: 'planned' }] },
        ],
      }),
    );
    writeFileSync(path.join(extraDir, 'broken.json'), JSON.stringify({ steps: [{ chunkSize: 0 }] }));
    writeFileSync(
      path.join(extraDir, 'trickle.json'),
      JSON.stringify({ steps: [{ text: 'abc', chunkSize: 1, chunkDelayMs: 60_000 }] }),
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

  it('should stream a text reply as Anthropic SSE events when the scenario is write-file step 2', async () => {
    const response = await post(messagesPath('write-file', 'sse'), messagesRequest({ assistantTurns: 1 }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = parseSse(await response.text());
    expect(events.map((event) => event.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0]?.data['message']).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-5-5',
      content: [],
      usage: { input_tokens: 100, output_tokens: 0 },
    });
    expect(blockDeltas(events, 0)).toBe('Wrote hello.txt');
    expect(events[5]?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: {
        input_tokens: 100,
        output_tokens: 20,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it('should stream a tool_use block with the cwd from the request when the scenario is write-file step 1', async () => {
    const response = await post(
      messagesPath('write-file', 'tool'),
      messagesRequest({ cwd: '/srv/ws/task-7' }),
    );
    const events = parseSse(await response.text());
    expect(events[2]?.data['content_block']).toEqual({
      type: 'tool_use',
      id: 'toolu_scripted_0_0',
      name: 'Write',
      input: {},
    });
    expect(JSON.parse(blockDeltas(events, 0))).toEqual({
      file_path: '/srv/ws/task-7/hello.txt',
      content: 'hello from hangar\n',
    });
    const delta = events.find((event) => event.event === 'message_delta');
    expect(delta?.data['delta']).toMatchObject({ stop_reason: 'tool_use' });
  });

  it('should answer with one JSON message when the request does not stream', async () => {
    const response = await post('/v1/messages', messagesRequest({ stream: false }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-5-5',
      content: [{ type: 'text', text: 'shadowed reply' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 100,
        output_tokens: 20,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it('should cut a long reply into hundreds of deltas when the scenario is long-stream', async () => {
    const response = await post(messagesPath('long-stream', 'long'), messagesRequest());
    const events = parseSse(await response.text());
    const deltas = events.filter((event) => event.event === 'content_block_delta');
    expect(deltas.length).toBeGreaterThanOrEqual(200);
    expect(blockDeltas(events, 0)).toBe('Hangar streams every token as it arrives. '.repeat(60));
  });

  it('should give side calls without tools a short generic reply', async () => {
    const response = await post(
      messagesPath('fail', 'side'),
      messagesRequest({ tools: false, stream: false }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      content: [{ type: 'text', text: 'OK.' }],
      stop_reason: 'end_turn',
    });
  });

  it('should count tokens deterministically', async () => {
    const body = messagesRequest();
    const first = await post('/s/reply/count/v1/messages/count_tokens?beta=true', body);
    const second = await post('/s/reply/count/v1/messages/count_tokens', body);
    expect(first.status).toBe(200);
    const counted = (await first.json()) as { input_tokens: number };
    expect(counted.input_tokens).toBeGreaterThan(0);
    expect(await second.json()).toEqual(counted);
  });

  it('should answer 429 with retry-after once per run key, then reply, when the scenario is rate-limited', async () => {
    const limited = await post(messagesPath('rate-limited', 'rl-a'), messagesRequest());
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('0');
    expect(await limited.json()).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'scripted rate limit' },
      request_id: expect.stringMatching(/^req_/),
    });
    const retried = await post(messagesPath('rate-limited', 'rl-a'), messagesRequest());
    expect(retried.status).toBe(200);
    await retried.text();
    const otherRun = await post(messagesPath('rate-limited', 'rl-b'), messagesRequest());
    expect(otherRun.status).toBe(429);
    await otherRun.text();
  });

  it('should answer 529 overloaded_error, then 500 api_error, then the reply when a step lists both errors', async () => {
    const overloaded = await post(messagesPath('flaky', 'k'), messagesRequest());
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toMatchObject({ error: { type: 'overloaded_error' } });
    const failed = await post(messagesPath('flaky', 'k'), messagesRequest());
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ error: { type: 'api_error', message: 'boom' } });
    const answered = await post(messagesPath('flaky', 'k'), messagesRequest({ stream: false }));
    expect(await answered.json()).toMatchObject({ content: [{ type: 'text', text: 'finally' }] });
  });

  it('should refuse every call with 400 when the scenario is fail', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await post(messagesPath('fail', 'f'), messagesRequest());
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error' },
      });
    }
  });

  it('should answer 404 with an Anthropic error naming the scenario when it does not exist', async () => {
    const response = await post(messagesPath('no-such-scenario', 'x'), messagesRequest());
    expect(response.status).toBe(404);
    const body = (await response.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('not_found_error');
    expect(body.error.message).toContain('"no-such-scenario"');
  });

  it('should answer 400 naming the file when a scenario is invalid', async () => {
    const response = await post(messagesPath('broken', 'x'), messagesRequest());
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toContain('broken.json');
  });

  it('should fill template variables from the route and headers when a user scenario uses them', async () => {
    const response = await post(messagesPath('custom', 'run-42'), messagesRequest({ stream: false }));
    expect(await response.json()).toMatchObject({
      content: [{ type: 'text', text: 'run run-42 of custom at step 0 in session session-1' }],
    });
  });

  it('should answer 400 when a template needs the cwd and the request carries none', async () => {
    const response = await post(messagesPath('write-file', 'no-cwd'), messagesRequest({ cwd: null }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining('{{cwd}}') } });
  });

  it('should say the scenario is over when the conversation has more turns than steps', async () => {
    const response = await post(
      messagesPath('write-file', 'over'),
      messagesRequest({ assistantTurns: 5, stream: false }),
    );
    expect(await response.json()).toMatchObject({
      content: [{ type: 'text', text: expect.stringContaining('has no step 6') }],
    });
  });

  it('should answer 404 for an unknown route and 400 for a body that is not JSON', async () => {
    expect((await fetch(`${model.url}/v1/complete`, { method: 'POST', body: '{}' })).status).toBe(404);
    const response = await fetch(`${model.url}/v1/messages`, { method: 'POST', body: 'not json' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('should report each request to onRequest with its step and attempt', async () => {
    records.length = 0;
    await (await post(messagesPath('write-file', 'rec'), messagesRequest({ assistantTurns: 1 }))).text();
    expect(records).toEqual([
      expect.objectContaining({
        scenario: 'write-file',
        runKey: 'rec',
        kind: 'messages',
        step: 1,
        attempt: 1,
        status: 200,
      }),
    ]);
  });

  describe('cases', () => {
    const reply = async (runKey: string, options: RequestOptions) => {
      const response = await post(messagesPath('by-prompt', runKey), {
        ...messagesRequest(options),
        stream: false,
      });
      return { status: response.status, body: (await response.json()) as { content: unknown[] } };
    };

    it('should answer with the first case whose text the prompt includes, step by step, when the scenario has cases', async () => {
      records.length = 0;
      // The case's own leading error, then its first step: a tool call in the request's cwd.
      expect((await reply('review-1', { prompt: 'Review the Plan, please' })).status).toBe(529);
      expect((await reply('review-1', { prompt: 'Review the Plan, please' })).body.content).toEqual([
        {
          type: 'tool_use',
          // A case's calls have ids of their own: a subagent's (a case) never reuses its caller's.
          id: 'toolu_scripted_c0_0_0',
          name: 'Write',
          input: { file_path: '/work/task/review.md' },
        },
      ]);
      // Step 2 of the same case; a later user text naming another case changes nothing.
      const second = await reply('review-1', {
        prompt: 'Review the Plan, please',
        assistantTurns: 1,
        laterText: 'Plan',
      });
      expect(second.body.content).toEqual([{ type: 'text', text: 'reviewed at step 1' }]);
      expect(
        records.map(({ case: caseIndex, step, attempt, status }) => ({ caseIndex, step, attempt, status })),
      ).toEqual([
        { caseIndex: 0, step: 0, attempt: 1, status: 529 },
        { caseIndex: 0, step: 0, attempt: 2, status: 200 },
        { caseIndex: 0, step: 1, attempt: 1, status: 200 },
      ]);
    });

    it('should answer with the top-level steps when no case matches, and past the end of a short case', async () => {
      expect((await reply('plan-1', { prompt: 'Plan the work' })).body.content).toEqual([
        { type: 'text', text: 'planned' },
      ]);
      expect((await reply('plan-1', { prompt: 'Plan the work', assistantTurns: 1 })).body.content).toEqual([
        { type: 'text', text: expect.stringContaining('has no step 2') },
      ]);
      // Case-sensitive, like String.includes.
      expect((await reply('other-1', { prompt: 'review and plan' })).body.content).toEqual([
        { type: 'text', text: 'no case matched' },
      ]);
    });
  });

  it('should serve health and the scenario list', async () => {
    expect(await (await fetch(`${model.url}/health`)).json()).toEqual({ status: 'ok' });
    const { scenarios } = (await (await fetch(`${model.url}/scenarios`)).json()) as {
      scenarios: { name: string }[];
    };
    expect(scenarios.map((scenario) => scenario.name)).toEqual(
      expect.arrayContaining(['custom', 'reply', 'write-file']),
    );
  });

  it('should close promptly while a reply is still trickling out', async () => {
    const trickling = await startScriptedModel({ port: 0, scenariosDir: extraDir });
    const response = await fetch(`${trickling.url}/s/trickle/t/v1/messages`, {
      method: 'POST',
      body: JSON.stringify(messagesRequest()),
    });
    expect(response.status).toBe(200);
    const started = Date.now();
    await trickling.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(response.text()).rejects.toThrow();
  });
});

describe(errorForAttempt.name, () => {
  const errors = [
    { status: 529, times: 1 as const },
    { status: 429, times: 2 },
  ];

  it('should walk the error list by attempt, then succeed', () => {
    expect([1, 2, 3, 4].map((attempt) => errorForAttempt(errors, attempt)?.status)).toEqual([
      529,
      429,
      429,
      undefined,
    ]);
  });

  it('should fail every attempt when an error repeats always', () => {
    expect(errorForAttempt([{ status: 500, times: 'always' }], 99)?.status).toBe(500);
  });
});
