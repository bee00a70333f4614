import { restUntil } from './rate-limits';

// When each provider's answer says a credential may be used again, from the headers and bodies
// their APIs send.
describe(restUntil.name, () => {
  const now = Date.parse('2026-12-05T16:00:00.000Z');

  it('rests an Anthropic key until the latest reset of a limit with nothing remaining', () => {
    expect(
      restUntil(
        'claude',
        429,
        {
          'retry-after': '3',
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': '2026-12-05T16:00:07Z',
          'anthropic-ratelimit-tokens-remaining': '5000',
          'anthropic-ratelimit-tokens-reset': '2026-12-05T16:01:00Z',
        },
        undefined,
        now,
      ),
    ).toBe(now + 7000);
  });

  it('rests an OpenAI key for its reset durations, and a Gemini key for its RetryInfo', () => {
    expect(
      restUntil(
        'codex',
        429,
        { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1m2.5s' },
        undefined,
        now,
      ),
    ).toBe(now + 62_500);
    const body = JSON.stringify({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' }],
      },
    });
    expect(restUntil('gemini', 429, {}, body, now)).toBe(now + 12_000);
  });

  it('rests a key 10 s on a 429 that names no reset, and not at all on one that says retry now', () => {
    expect(restUntil('claude', 429, {}, undefined, now)).toBe(now + 10_000);
    expect(restUntil('claude', 429, { 'retry-after': '0' }, undefined, now)).toBeNull();
  });

  it('rests a key on an overloaded API only for its retry-after: the provider is busy, not the key', () => {
    expect(restUntil('claude', 529, {}, undefined, now)).toBeNull();
    expect(restUntil('claude', 529, { 'retry-after': '2' }, undefined, now)).toBe(now + 2000);
  });

  it('rests a key ahead of a refusal when an answer says a limit has nothing left', () => {
    expect(
      restUntil(
        'codex',
        200,
        { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '20ms' },
        undefined,
        now,
      ),
    ).toBe(now + 20);
    expect(
      restUntil('claude', 200, { 'anthropic-ratelimit-requests-remaining': '12' }, undefined, now),
    ).toBeNull();
  });
});
