import { StringDecoder } from 'node:string_decoder';
import { type AgentEvent, AgentEventSchema, type TaskUsage } from '@hangar/contracts';

// Turns an agent CLI's stdout into typed events; one implementation per CLI.
export interface AgentOutputParser {
  push(chunk: Buffer | string): AgentEvent[];
  end(): AgentEvent[];
}

// `claude -p --output-format stream-json --verbose` prints one JSON object per line.
// Chunks from a pipe split lines (and UTF-8 sequences) anywhere; this reassembles them.
export class ClaudeStreamParser implements AgentOutputParser {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  push(chunk: Buffer | string): AgentEvent[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.flatMap((line) => parseClaudeLine(line));
  }

  end(): AgentEvent[] {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return parseClaudeLine(rest);
  }
}

type JsonObject = Record<string, unknown>;

export function parseClaudeLine(line: string): AgentEvent[] {
  const trimmed = line.trim();
  if (trimmed === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return [unknown(trimmed)];
  }
  if (!isObject(value)) return [unknown(value)];
  const events = mapMessage(value);
  // Whatever does not fit the contract is kept whole rather than dropped or half-typed.
  return events.map((event) => (AgentEventSchema.safeParse(event).success ? event : unknown(value)));
}

function mapMessage(message: JsonObject): AgentEvent[] {
  switch (message['type']) {
    case 'system':
      return mapSystem(message);
    case 'assistant':
      return mapAssistant(message);
    case 'user':
      return mapUser(message);
    case 'result':
      return [mapResult(message)];
    default:
      return [unknown(message)];
  }
}

function mapSystem(message: JsonObject): AgentEvent[] {
  if (message['subtype'] === 'init' && typeof message['session_id'] === 'string') {
    return [
      {
        type: 'system.init',
        data: {
          sessionId: message['session_id'],
          model: optionalString(message['model']),
          cwd: optionalString(message['cwd']),
          tools: Array.isArray(message['tools'])
            ? message['tools'].filter((tool) => typeof tool === 'string')
            : [],
          permissionMode: optionalString(message['permissionMode']),
          cliVersion: optionalString(message['claude_code_version']),
        },
      },
    ];
  }
  if (message['subtype'] === 'api_retry') {
    const status = message['error_status'];
    return [
      {
        type: 'api.retry',
        data: {
          attempt: optionalNumber(message['attempt']),
          maxRetries: optionalNumber(message['max_retries']),
          delayMs: optionalNumber(message['retry_delay_ms']),
          status: typeof status === 'number' ? status : status === null ? null : undefined,
          error: optionalString(message['error']),
        },
      },
    ];
  }
  return [unknown(message)];
}

function mapAssistant(message: JsonObject): AgentEvent[] {
  const body = message['message'];
  if (!isObject(body) || !Array.isArray(body['content'])) return [unknown(message)];
  const messageId = optionalString(body['id']);
  const events: AgentEvent[] = [];
  let unrecognised = false;
  for (const block of body['content']) {
    if (!isObject(block)) {
      unrecognised = true;
    } else if (block['type'] === 'text' && typeof block['text'] === 'string') {
      events.push({ type: 'assistant.text', data: { text: block['text'], messageId } });
    } else if (block['type'] === 'thinking' && typeof block['thinking'] === 'string') {
      events.push({ type: 'assistant.thinking', data: { text: block['thinking'] } });
    } else if (
      block['type'] === 'tool_use' &&
      typeof block['id'] === 'string' &&
      typeof block['name'] === 'string'
    ) {
      events.push({
        type: 'tool.use',
        data: { toolUseId: block['id'], name: block['name'], input: block['input'] ?? {} },
      });
    } else {
      unrecognised = true;
    }
  }
  if (unrecognised || events.length === 0) events.push(unknown(message));
  return events;
}

function mapUser(message: JsonObject): AgentEvent[] {
  const body = message['message'];
  if (!isObject(body) || !Array.isArray(body['content'])) return [unknown(message)];
  const events: AgentEvent[] = [];
  let unrecognised = false;
  for (const block of body['content']) {
    if (isObject(block) && block['type'] === 'tool_result' && typeof block['tool_use_id'] === 'string') {
      events.push({
        type: 'tool.result',
        data: {
          toolUseId: block['tool_use_id'],
          content: stringifyToolContent(block['content']),
          isError: block['is_error'] === true,
        },
      });
    } else {
      unrecognised = true;
    }
  }
  if (unrecognised || events.length === 0) events.push(unknown(message));
  return events;
}

function mapResult(message: JsonObject): AgentEvent {
  const usage = isObject(message['usage']) ? message['usage'] : {};
  const taskUsage: TaskUsage = {
    inputTokens: count(usage['input_tokens']),
    outputTokens: count(usage['output_tokens']),
    cacheReadTokens: count(usage['cache_read_input_tokens']),
    cacheCreationTokens: count(usage['cache_creation_input_tokens']),
  };
  return {
    type: 'result',
    data: {
      subtype: optionalString(message['subtype']) ?? 'unknown',
      isError: message['is_error'] === true,
      result: typeof message['result'] === 'string' ? message['result'] : null,
      costUsd: typeof message['total_cost_usd'] === 'number' ? message['total_cost_usd'] : null,
      usage: taskUsage,
      numTurns: integerOrNull(message['num_turns']),
      durationMs: integerOrNull(message['duration_ms']),
      sessionId: typeof message['session_id'] === 'string' ? message['session_id'] : null,
    },
  };
}

// Tool results are a string or a list of content blocks (text, images); events carry text.
function stringifyToolContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (content === undefined || content === null) return '';
  if (Array.isArray(content)) {
    return content
      .map((block) =>
        isObject(block) && block['type'] === 'text' && typeof block['text'] === 'string'
          ? block['text']
          : JSON.stringify(block),
      )
      .join('\n');
  }
  return JSON.stringify(content);
}

function unknown(raw: unknown): AgentEvent {
  return { type: 'unknown', data: { raw } };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function integerOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
