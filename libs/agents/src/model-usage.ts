import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { AgentProvider } from './agent-provider';
import type { CallTokens } from './pricing';

// What one model call used, as its answer says: the model that answered and its tokens (null
// when the answer does not say: an error, a token count, a body cut short).
export interface MeteredCall {
  model: string | null;
  tokens: CallTokens | null;
}

// A JSON answer is read whole up to this size; a bigger one is not metered (model answers with
// usage are far smaller: their streams are read event by event).
const MAX_JSON_BYTES = 8 * 1024 * 1024;

type Json = Record<string, unknown>;

// Reads a model API's answer as it passes through (the model gateway feeds it each chunk it
// forwards, unbuffered) and tells the model and tokens of the call: Anthropic Messages (a
// stream's message_start, then its message_delta's usage; or one JSON message), OpenAI Responses
// (a stream's response.completed; or one JSON response) and Gemini's generateContent (the last
// usageMetadata of a stream's chunks, of a JSON array of chunks, or of one JSON chunk). Server-
// sent events are parsed with eventsource-parser.
export class ModelUsageMeter {
  private readonly sse: EventSourceParser | undefined;
  private readonly decoder = new TextDecoder();
  private json: Buffer[] = [];
  private jsonBytes = 0;
  private model: string | null = null;
  private tokens: CallTokens | null = null;

  constructor(
    private readonly provider: AgentProvider,
    contentType: string | undefined,
  ) {
    if (contentType?.includes('text/event-stream'))
      this.sse = createParser({ onEvent: (event) => this.event(event.data) });
  }

  feed(chunk: Buffer): void {
    if (this.sse) return this.sse.feed(this.decoder.decode(chunk, { stream: true }));
    this.jsonBytes += chunk.length;
    if (this.jsonBytes <= MAX_JSON_BYTES) this.json.push(chunk);
  }

  result(): MeteredCall {
    if (!this.sse && this.jsonBytes > 0 && this.jsonBytes <= MAX_JSON_BYTES) {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(this.json).toString('utf8'));
      } catch {
        body = undefined;
      }
      for (const item of Array.isArray(body) ? body : [body]) if (isObject(item)) this.answer(item);
    }
    return { model: this.model, tokens: this.tokens };
  }

  private event(data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return; // ([DONE] and the like)
    }
    if (isObject(parsed)) this.answer(parsed);
  }

  // One event of a stream, or one whole answer.
  private answer(body: Json): void {
    if (this.provider === 'claude') return this.anthropic(body);
    if (this.provider === 'codex') return this.openai(body);
    return this.gemini(body);
  }

  private anthropic(body: Json): void {
    const message = body['type'] === 'message_start' && isObject(body['message']) ? body['message'] : body;
    if (typeof message['model'] === 'string') this.model = message['model'];
    const usage = message['usage'];
    if (!isObject(usage)) return;
    // message_start has the input side (and a first output count); message_delta the final
    // output count, and with newer APIs the input side again.
    const before = this.tokens ?? {
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    };
    this.tokens = {
      inputTokens: count(usage['input_tokens']) ?? before.inputTokens,
      outputTokens: count(usage['output_tokens']) ?? before.outputTokens,
      cacheReadTokens: count(usage['cache_read_input_tokens']) ?? before.cacheReadTokens,
      cacheWriteTokens: count(usage['cache_creation_input_tokens']) ?? before.cacheWriteTokens,
    };
  }

  private openai(body: Json): void {
    // A stream's response.completed (or .incomplete, .failed) carries the whole response.
    const response = isObject(body['response']) ? body['response'] : body;
    if (typeof response['model'] === 'string') this.model = response['model'];
    const usage = response['usage'];
    if (!isObject(usage)) return;
    const details = isObject(usage['input_tokens_details']) ? usage['input_tokens_details'] : {};
    const cacheRead = count(details['cached_tokens']) ?? 0;
    const cacheWrite = count(details['cache_write_tokens']) ?? 0;
    this.tokens = {
      inputTokens: Math.max(0, (count(usage['input_tokens']) ?? 0) - cacheRead - cacheWrite),
      outputTokens: count(usage['output_tokens']) ?? 0,
      cacheReadTokens: cacheRead,
      cacheWriteTokens: cacheWrite,
    };
  }

  private gemini(body: Json): void {
    if (typeof body['modelVersion'] === 'string') this.model = body['modelVersion'];
    const usage = body['usageMetadata'];
    if (!isObject(usage)) return;
    const cached = count(usage['cachedContentTokenCount']) ?? 0;
    this.tokens = {
      inputTokens: Math.max(0, (count(usage['promptTokenCount']) ?? 0) - cached),
      // Thoughts are billed as output.
      outputTokens: (count(usage['candidatesTokenCount']) ?? 0) + (count(usage['thoughtsTokenCount']) ?? 0),
      cacheReadTokens: cached,
      cacheWriteTokens: 0,
    };
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
