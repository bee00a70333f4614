import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimitsSnapshot, RateLimitView } from './key-rate-limits';
import { openAiDuration } from './openai-responses.protocol';
import {
  RATE_LIMITS_PATH,
  type ScriptedModel,
  scriptedModelBaseUrl,
  type ScriptedRequestRecord,
  startScriptedModel,
} from './scripted-model.server';

// Rate-limiting one API key through the control endpoint, in each API's shape.
const messagesBody = (stream = false) => ({
  model: 'claude-opus-5-5',
  max_tokens: 1000,
  stream,
  messages: [{ role: 'user', content: 'go' }],
  tools: [{ name: 'Write', input_schema: { type: 'object' } }],
});
const responsesBody = {
  model: 'gpt-5.5',
  stream: false,
  input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'go' }] }],
  tools: [{ type: 'function', name: 'exec_command' }],
};
const geminiBody = {
  contents: [{ role: 'user', parts: [{ text: 'go' }] }],
  tools: [{ functionDeclarations: [{ name: 'read_file' }] }],
};

// OpenAI's reset durations back to milliseconds: `20ms`, `1.5s`, `6m0s`.
function durationMs(value: string): number {
  const unit = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
  return [...value.matchAll(/([\d.]+)(ms|h|m|s)/g)].reduce(
    (total, [, amount, name]) => total + Number(amount) * unit[name as keyof typeof unit],
    0,
  );
}

describe('scripted model rate limits', () => {
  let model: ScriptedModel;
  let extraDir: string;
  const records: ScriptedRequestRecord[] = [];

  const call = (urlPath: string, body: unknown, headers: Record<string, string>): Promise<Response> =>
    fetch(`${model.url}${urlPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const base = (scenario: string, runKey: string, provider?: 'codex' | 'gemini'): string =>
    new URL(scriptedModelBaseUrl(model.url, scenario, runKey, provider)).pathname;
  const anthropic = (key: string, { runKey = 'a', scenario = 'reply', stream = false } = {}) =>
    call(`${base(scenario, runKey)}/v1/messages?beta=true`, messagesBody(stream), { 'x-api-key': key });
  const openAi = (key: string, endpoint = 'responses') =>
    call(`${base('reply', 'o', 'codex')}/${endpoint}`, responsesBody, { authorization: `Bearer ${key}` });
  const gemini = (headers: Record<string, string>, method = 'generateContent', query = '') =>
    call(
      `${base('reply', 'g', 'gemini')}/v1beta/models/gemini-2.5-flash:${method}${query}`,
      geminiBody,
      headers,
    );

  const control = (body: unknown, method = 'POST'): Promise<Response> =>
    fetch(`${model.url}${RATE_LIMITS_PATH}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const limit = async (key: string, forMs: number, status?: number): Promise<RateLimitView> => {
    const response = await control({ key, forMs, ...(status === undefined ? {} : { status }) });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { key: string; limit: RateLimitView };
    expect(answer.key).toBe(key);
    return answer.limit;
  };
  const snapshot = async (): Promise<RateLimitsSnapshot> => {
    const response = await fetch(`${model.url}${RATE_LIMITS_PATH}`);
    expect(response.status).toBe(200);
    return (await response.json()) as RateLimitsSnapshot;
  };
  const expectNear = (actualMs: number, expectedMs: number): void => {
    expect(Math.abs(actualMs - expectedMs)).toBeLessThanOrEqual(1000);
  };

  beforeAll(async () => {
    extraDir = mkdtempSync(path.join(tmpdir(), 'hangar-rate-limits-'));
    writeFileSync(
      path.join(extraDir, 'flaky.json'),
      JSON.stringify({ steps: [{ errors: [{ status: 500, times: 1, message: 'boom' }], text: 'finally' }] }),
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

  it("should refuse a limited key's Anthropic calls with rate_limit_error and Anthropic's headers while another key is served", async () => {
    const set = await limit('anthropic-a', 60_000);
    expect(set).toEqual({ status: 429, until: expect.any(String), remainingMs: 60_000 });
    const until = Date.parse(set.until);

    for (const refused of [
      await anthropic('anthropic-a'),
      await anthropic('anthropic-a', { stream: true }),
      await call(`${base('reply', 'a')}/v1/messages`, messagesBody(), {
        authorization: 'Bearer anthropic-a',
      }),
    ]) {
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('60');
      expect(refused.headers.get('anthropic-ratelimit-requests-limit')).toMatch(/^\d+$/);
      expect(refused.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
      const reset = refused.headers.get('anthropic-ratelimit-requests-reset') ?? '';
      expect(reset).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expectNear(Date.parse(reset), until);
      expect(refused.headers.get('content-type')).toBe('application/json');
      expect(await refused.json()).toEqual({
        type: 'error',
        error: { type: 'rate_limit_error', message: expect.stringContaining('rate limit') },
        request_id: expect.stringMatching(/^req_/),
      });
    }

    const served = await anthropic('anthropic-b');
    expect(served.status).toBe(200);
    expect(await served.json()).toMatchObject({ content: [{ type: 'text' }] });
    const counted = await call(`${base('reply', 'a')}/v1/messages/count_tokens`, messagesBody(), {
      'x-api-key': 'anthropic-a',
    });
    expect(counted.status).toBe(200);
    expect(records).toContainEqual(
      expect.objectContaining({
        api: 'anthropic',
        kind: 'messages',
        status: 429,
        error: expect.stringContaining('rate limit'),
      }),
    );
  });

  it('should refuse with overloaded_error and only retry-after when the limit is a 529', async () => {
    await limit('anthropic-overloaded', 2500, 529);
    const refused = await anthropic('anthropic-overloaded');
    expect(refused.status).toBe(529);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(refused.headers.get('anthropic-ratelimit-requests-remaining')).toBeNull();
    expect(await refused.json()).toMatchObject({
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
  });

  it("should refuse a limited key's Responses calls with OpenAI's body and x-ratelimit headers", async () => {
    const until = Date.parse((await limit('openai-a', 90_000)).until);
    const refused = await openAi('openai-a');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('90');
    expect(refused.headers.get('x-ratelimit-limit-requests')).toMatch(/^\d+$/);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const reset = refused.headers.get('x-ratelimit-reset-requests') ?? '';
    expect(reset).toMatch(/^1m(\d+(\.\d+)?)s$/);
    expectNear(Date.now() + durationMs(reset), until);
    expect(await refused.json()).toEqual({
      error: {
        message: expect.stringContaining('rate limit'),
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });

    expect((await openAi('openai-b')).status).toBe(200);
    expect((await openAi('openai-a', 'responses/input_tokens')).status).toBe(200);
  });

  it("should refuse a limited key's Gemini calls, by header or ?key=, with RetryInfo and retry-after", async () => {
    const until = Date.parse((await limit('gemini-a', 5000)).until);
    const refusals = [
      await gemini({ 'x-goog-api-key': 'gemini-a' }),
      await gemini({ 'x-goog-api-key': 'gemini-a' }, 'streamGenerateContent', '?alt=sse'),
      await gemini({}, 'generateContent', '?key=gemini-a'),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(await refused.json()).toEqual({
        error: {
          code: 429,
          message: expect.stringContaining('rate limit'),
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '5s' }],
        },
      });
      expectNear(Date.now() + 5000, until);
    }

    expect((await gemini({ 'x-goog-api-key': 'gemini-b' })).status).toBe(200);
    expect((await gemini({ 'x-goog-api-key': 'gemini-a' }, 'countTokens')).status).toBe(200);
  });

  it('should not consume the scenario step when it refuses a call', async () => {
    await limit('step-key', 60_000);
    const refused = await anthropic('step-key', { scenario: 'flaky', runKey: 'step-run' });
    expect(refused.status).toBe(429);
    expect(records.at(-1)).not.toHaveProperty('attempt');

    await limit('step-key', 0);
    // The scripted error still comes first: the refused call was no attempt.
    const first = await anthropic('step-key', { scenario: 'flaky', runKey: 'step-run' });
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({ error: { message: 'boom' } });
    const second = await anthropic('step-key', { scenario: 'flaky', runKey: 'step-run' });
    expect(await second.json()).toMatchObject({ content: [{ type: 'text', text: 'finally' }] });
  });

  it('should lift a limit by itself when its time is up, and at once with forMs 0', async () => {
    const shortLimit = await limit('short-key', 300);
    expect((await snapshot()).limits['short-key']).toMatchObject({ status: 429, until: shortLimit.until });
    const refused = await anthropic('short-key');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');

    await sleep(Math.max(0, Date.parse(shortLimit.until) - Date.now()) + 20);
    expect((await snapshot()).limits).not.toHaveProperty('short-key');
    expect((await anthropic('short-key')).status).toBe(200);

    await limit('lifted-key', 60_000);
    expect((await anthropic('lifted-key')).status).toBe(429);
    const lifted = await control({ key: 'lifted-key', forMs: 0 });
    expect(await lifted.json()).toEqual({ key: 'lifted-key', limit: null });
    expect((await snapshot()).limits).not.toHaveProperty('lifted-key');
    expect((await anthropic('lifted-key')).status).toBe(200);
  });

  it('should count refused and served model calls by key, and no token counts or keyless calls', async () => {
    await limit('count-a', 60_000);
    await anthropic('count-a');
    await openAi('count-a');
    await gemini({ 'x-goog-api-key': 'count-a' });
    await anthropic('count-b');
    await anthropic('count-b', { stream: true });
    await openAi('count-b', 'responses/input_tokens');
    await call(`${base('reply', 'a')}/v1/messages`, messagesBody(), {});

    const { limits, calls } = await snapshot();
    expect(limits['count-a']).toEqual({
      status: 429,
      until: expect.any(String),
      remainingMs: expect.any(Number),
    });
    expect(calls['count-a']).toEqual({ refused: 3, served: 0 });
    expect(calls['count-b']).toEqual({ refused: 0, served: 2 });
    expect(Object.keys(calls)).not.toContain('');
  });

  it('should report a key named __proto__ like any other', async () => {
    await limit('__proto__', 60_000);
    await anthropic('__proto__');
    const { limits, calls } = await snapshot();
    expect(Object.keys(limits)).toContain('__proto__');
    expect(Object.getOwnPropertyDescriptor(calls, '__proto__')?.value).toEqual({ refused: 1, served: 0 });
    await limit('__proto__', 0);
  });

  it('should keep limits per server', async () => {
    await limit('per-server', 60_000);
    const other = await startScriptedModel({ port: 0 });
    try {
      const response = await fetch(`${other.url}${RATE_LIMITS_PATH}`);
      expect(await response.json()).toEqual({ limits: {}, calls: {} });
    } finally {
      await other.close();
    }
  });

  it.each([
    ['a body that is not JSON', '{"key":', 'not valid JSON'],
    ['a missing key', { forMs: 10 }, 'key'],
    ['an empty key', { key: '', forMs: 10 }, 'key'],
    ['a negative forMs', { key: 'k', forMs: -1 }, 'forMs'],
    ['a fractional forMs', { key: 'k', forMs: 1.5 }, 'forMs'],
    ['a status other than 429 or 529', { key: 'k', forMs: 10, status: 500 }, 'status'],
    ['an unknown field', { key: 'k', forMs: 10, seconds: 1 }, 'seconds'],
    ['an array', [], 'expected object'],
  ])('should answer 400 with a message for %s', async (_name, body, mention) => {
    const response = await control(body);
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { message: string } };
    expect(answer.error.message).toContain(mention);
  });

  it('should answer 405 to other methods on the control endpoint', async () => {
    const response = await control({}, 'PUT');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
  });
});

describe(openAiDuration.name, () => {
  it("should print durations the way OpenAI's reset headers do", () => {
    expect(openAiDuration(0)).toBe('0s');
    expect(openAiDuration(20)).toBe('20ms');
    expect(openAiDuration(1500)).toBe('1.5s');
    expect(openAiDuration(59_999)).toBe('59.999s');
    expect(openAiDuration(360_000)).toBe('6m0s');
    expect(openAiDuration(3_723_004)).toBe('1h2m3.004s');
  });
});
