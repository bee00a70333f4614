import { StringDecoder } from 'node:string_decoder';
import { type AgentEvent, AgentEventSchema } from '@hangar/contracts';

// Turns an agent CLI's stdout into typed events; one implementation per CLI.
export interface AgentOutputParser {
  push(chunk: Buffer | string): AgentEvent[];
  end(): AgentEvent[];
}

export type JsonObject = Record<string, unknown>;

// The three CLIs print one JSON object per line. Chunks from a pipe split lines (and UTF-8
// sequences) anywhere; this reassembles them and hands each whole line to `parseLine`.
export abstract class JsonLinesParser implements AgentOutputParser {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  push(chunk: Buffer | string): AgentEvent[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.flatMap((line) => this.parseText(line));
  }

  end(): AgentEvent[] {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return [...this.parseText(rest), ...this.flush()];
  }

  // Events held back until the stream ends (a parser that coalesces deltas).
  protected flush(): AgentEvent[] {
    return [];
  }

  protected abstract parseObject(message: JsonObject): AgentEvent[];

  private parseText(line: string): AgentEvent[] {
    const trimmed = line.trim();
    if (trimmed === '') return [];
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      return [...this.flush(), unknownEvent(trimmed)];
    }
    if (!isObject(value)) return [...this.flush(), unknownEvent(value)];
    // Whatever does not fit the contract is kept whole rather than dropped or half-typed.
    return this.parseObject(value).map((event) =>
      AgentEventSchema.safeParse(event).success ? event : unknownEvent(value),
    );
  }
}

export function unknownEvent(raw: unknown): AgentEvent {
  return { type: 'unknown', data: { raw } };
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function integerOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : null;
}

// A token count: a non-negative integer, 0 when absent or malformed.
export function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
