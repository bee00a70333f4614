import type { AgentProvider } from './agent-provider';

// A credential the provider refused for a rate limit, with no word on when it may be used again.
const DEFAULT_REST_MS = 10_000;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

// Until when (epoch ms) a provider's answer says the credential it was made with may not be
// used (docs/governance.md), or null when it says nothing of the kind:
// - a 429 rests it until the latest reset the answer names: `retry-after` (seconds or a date);
//   Anthropic's `anthropic-ratelimit-*-reset` (RFC 3339) of a limit with nothing remaining;
//   OpenAI's `x-ratelimit-reset-*` (durations such as `6m0s`) of a limit with nothing remaining;
//   Gemini's `RetryInfo.retryDelay` in the error body — or 10 s when it names none;
// - a 529 (or 503), the provider overloaded rather than the key limited, rests it only as long
//   as its `retry-after` says;
// - any other answer whose headers say a limit has nothing remaining rests it until that
//   limit's reset, so the next call goes out with another credential instead of being refused.
export function restUntil(
  provider: AgentProvider,
  status: number,
  headers: Headers,
  body: string | undefined,
  now: number = Date.now(),
): number | null {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const retryAfter = retryAfterMs(header('retry-after'), now);
  if (status === 529 || status === 503)
    return retryAfter !== null && retryAfter > 0 ? now + retryAfter : null;
  const resets: number[] = retryAfter !== null ? [now + retryAfter] : [];
  if (provider === 'claude') {
    for (const [name, value] of Object.entries(headers)) {
      const limit = /^anthropic-ratelimit-(.+)-remaining$/.exec(name)?.[1];
      if (!limit || Number(Array.isArray(value) ? value[0] : value) > 0) continue;
      const reset = Date.parse(header(`anthropic-ratelimit-${limit}-reset`) ?? '');
      if (Number.isFinite(reset)) resets.push(reset);
    }
  }
  if (provider === 'codex') {
    for (const [name, value] of Object.entries(headers)) {
      const limit = /^x-ratelimit-remaining-(.+)$/.exec(name)?.[1];
      if (!limit || Number(Array.isArray(value) ? value[0] : value) > 0) continue;
      const reset = durationMs(header(`x-ratelimit-reset-${limit}`));
      if (reset !== null) resets.push(now + reset);
    }
  }
  if (provider === 'gemini' && status === 429 && body) {
    const delay = /"retryDelay"\s*:\s*"([\d.]+)s"/.exec(body)?.[1];
    if (delay !== undefined) resets.push(now + Number(delay) * 1000);
  }
  if (status === 429) {
    const until = resets.length > 0 ? Math.max(...resets) : now + DEFAULT_REST_MS;
    return until > now ? until : null;
  }
  const until = resets.length > 0 ? Math.max(...resets) : null;
  return until !== null && until > now ? until : null;
}

function retryAfterMs(value: string | undefined, now: number): number | null {
  if (value === undefined || value.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

// OpenAI's reset durations: `20ms`, `1.5s`, `6m0s`, `1h2m3s`.
function durationMs(value: string | undefined): number | null {
  if (!value) return null;
  const parts = [...value.matchAll(/([\d.]+)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== value.trim()) return null;
  const unit = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
  return parts.reduce(
    (total, [, amount, name]) => total + Number(amount) * unit[name as keyof typeof unit],
    0,
  );
}
