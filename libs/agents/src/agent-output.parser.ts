import { type AgentEvent, AgentEventSchema, withoutNul } from '@hangar/contracts';
import { DEFAULT_MAX_EVENT_BYTES, LineSplitter, type OutputLine } from './line-splitter';

// Turns an agent CLI's stdout into typed events; one implementation per CLI.
export interface AgentOutputParser {
  push(chunk: Buffer | string): AgentEvent[];
  end(): AgentEvent[];
}

export interface AgentOutputParserOptions {
  // A longer line becomes an `output.truncated` event (its first bytes and its size).
  maxEventBytes?: number;
}

export type JsonObject = Record<string, unknown>;

// The three CLIs print one JSON object per line. Chunks from a pipe split lines (and UTF-8
// sequences) anywhere; this reassembles them and hands each whole line to `parseLine`.
export abstract class JsonLinesParser implements AgentOutputParser {
  private readonly lines: LineSplitter;

  constructor(options: AgentOutputParserOptions = {}) {
    this.lines = new LineSplitter(options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
  }

  push(chunk: Buffer | string): AgentEvent[] {
    return this.lines.push(chunk).flatMap((line) => this.parseLine(line));
  }

  end(): AgentEvent[] {
    return [...this.lines.end().flatMap((line) => this.parseLine(line)), ...this.flush()];
  }

  // Events held back until the stream ends (a parser that coalesces deltas).
  protected flush(): AgentEvent[] {
    return [];
  }

  protected abstract parseObject(message: JsonObject): AgentEvent[];

  private parseLine(line: OutputLine): AgentEvent[] {
    if (line.truncated) return [...this.flush(), truncatedEvent('stdout', line)];
    const trimmed = line.text.trim();
    if (trimmed === '') return [];
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
      // An agent's text may hold NUL (a tool's output, its answer): kept, as U+FFFD. JSON can
      // only carry one escaped, so only such lines are walked (not every event of every run).
      if (trimmed.includes('\\u0000')) value = withoutNul(value);
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

export function truncatedEvent(stream: 'stdout' | 'stderr', line: OutputLine): AgentEvent {
  return { type: 'output.truncated', data: { stream, bytes: line.bytes, head: line.text } };
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
