// Hangar's price table: dollars per million tokens of each model, by kind of token. Kept here
// alone: the model gateway prices every model call with it (docs/governance.md), and the
// scripted model's expected costs come from it. `MODEL_PRICES_VERSION` names this table; an
// installation adds models or overrides prices with the agent-runner's MODEL_PRICES setting.
// The Claude prices are those Claude Code 2.1.330 computes total_cost_usd with (measured against
// the scripted model; cache writes are the 5-minute kind), so the gateway's sum over a task's
// calls is the CLI's own report. OpenAI counts cached tokens inside its input tokens: a call's
// input is priced as input, less its cached part, which is priced as a cache read.
export const MODEL_PRICES_VERSION = '2026-12-01';

export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-opus-5-5': { input: 4, output: 20, cacheRead: 0.2, cacheWrite: 5 },
  'claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4-5': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  // The models the pinned Codex (0.169.0) and Gemini CLI (0.61.0) ask for by default, and
  // earlier ones. Providers change prices: an installation checks these against its price
  // list and overrides them (MODEL_PRICES).
  'gpt-6.1-sol': { input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 0 },
  'gpt-5.5': { input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 0 },
  'gpt-5-codex': { input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 0 },
  'gemini-3.8-flash': { input: 0.3, output: 2.5, cacheRead: 0.075, cacheWrite: 0 },
  'gemini-3.5-flash-lite': { input: 0.1, output: 0.4, cacheRead: 0.025, cacheWrite: 0 },
  'gemini-2.5-pro': { input: 1.25, output: 10, cacheRead: 0.31, cacheWrite: 0 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cacheRead: 0.075, cacheWrite: 0 },
};

// The tokens of one model call, by kind, as Hangar counts them: `inputTokens` excludes cache
// reads and writes (Anthropic's way; an OpenAI or Gemini call's cached tokens are taken out).
export interface CallTokens {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

// Every token of a call, of every kind (what a budget in tokens, or a per-minute cap, counts).
export function totalTokens(tokens: CallTokens | null): number {
  return tokens
    ? tokens.inputTokens + tokens.outputTokens + tokens.cacheReadTokens + tokens.cacheWriteTokens
    : 0;
}

// Same order of operations as Claude Code, so the float matches the CLI's to the last bit.
export function callCostUsd(price: ModelPrice, tokens: CallTokens): number {
  return (
    (tokens.inputTokens / 1e6) * price.input +
    (tokens.outputTokens / 1e6) * price.output +
    (tokens.cacheReadTokens / 1e6) * price.cacheRead +
    (tokens.cacheWriteTokens / 1e6) * price.cacheWrite
  );
}

// What is known of a billed model call before it is made: its model, an upper bound of its
// input tokens (every byte of the request counted as a token: a token is at least a byte of the
// text it encodes, and the request holds all of it — system prompt, tools, messages, images in
// base64), and the most output it allows (`max_tokens`, `max_output_tokens`,
// `generationConfig.maxOutputTokens`; null when it does not say). The model gateway reserves a
// call's cost against its budgets from this (docs/governance.md).
export interface CallRequest {
  model: string | null;
  inputTokensBound: number;
  maxOutputTokens: number | null;
}

export function readCallRequest(
  provider: 'claude' | 'codex' | 'gemini',
  path: string,
  body: Buffer,
): CallRequest {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
  } catch {
    // Not JSON: the provider answers it; its bound is still its size.
  }
  const count = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  if (provider === 'gemini') {
    const config = parsed.generationConfig as Record<string, unknown> | undefined;
    return {
      model: /\/models\/([^/:]+):/.exec(path)?.[1] ?? null,
      inputTokensBound: body.length,
      maxOutputTokens: count(config?.maxOutputTokens),
    };
  }
  return {
    model: text(parsed.model),
    inputTokensBound: body.length,
    maxOutputTokens: count(provider === 'claude' ? parsed.max_tokens : parsed.max_output_tokens),
  };
}
