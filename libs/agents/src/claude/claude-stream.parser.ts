import type { AgentEvent, TaskUsage } from '@hangar/contracts';
import {
  integerOrNull,
  isObject,
  type JsonObject,
  JsonLinesParser,
  optionalNumber,
  optionalString,
  tokenCount,
  unknownEvent,
} from '../agent-output.parser';

// `claude -p --output-format stream-json --verbose` prints one JSON object per line.
export class ClaudeStreamParser extends JsonLinesParser {
  protected parseObject(message: JsonObject): AgentEvent[] {
    return mapMessage(message);
  }
}

export function parseClaudeLine(line: string): AgentEvent[] {
  const parser = new ClaudeStreamParser();
  return [...parser.push(`${line}\n`), ...parser.end()];
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
      return [unknownEvent(message)];
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
          ...(Array.isArray(message['mcp_servers'])
            ? {
                mcpServers: message['mcp_servers']
                  .filter(isObject)
                  .flatMap((server) =>
                    typeof server['name'] === 'string'
                      ? [{ name: server['name'], status: optionalString(server['status']) ?? 'unknown' }]
                      : [],
                  ),
              }
            : {}),
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
  return [unknownEvent(message)];
}

function mapAssistant(message: JsonObject): AgentEvent[] {
  const body = message['message'];
  if (!isObject(body) || !Array.isArray(body['content'])) return [unknownEvent(message)];
  const messageId = optionalString(body['id']);
  const context = { messageId, ...parentOf(message) };
  const events: AgentEvent[] = [];
  let unrecognised = false;
  for (const block of body['content']) {
    if (!isObject(block)) {
      unrecognised = true;
    } else if (block['type'] === 'text' && typeof block['text'] === 'string') {
      events.push({ type: 'assistant.text', data: { text: block['text'], ...context } });
    } else if (block['type'] === 'thinking' && typeof block['thinking'] === 'string') {
      events.push({ type: 'assistant.thinking', data: { text: block['thinking'], ...context } });
    } else if (
      block['type'] === 'tool_use' &&
      typeof block['id'] === 'string' &&
      typeof block['name'] === 'string'
    ) {
      events.push({
        type: 'tool.use',
        data: { toolUseId: block['id'], name: block['name'], input: block['input'] ?? {}, ...context },
      });
    } else {
      unrecognised = true;
    }
  }
  // The model call's tokens, once per message: on its first event.
  const first = events[0];
  if (first && isObject(body['usage'])) first.data = { ...first.data, usage: usageOf(body['usage']) };
  if (unrecognised || events.length === 0) events.push(unknownEvent(message));
  return events;
}

function mapUser(message: JsonObject): AgentEvent[] {
  const body = message['message'];
  if (!isObject(body) || !Array.isArray(body['content'])) return [unknownEvent(message)];
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
          ...parentOf(message),
        },
      });
    } else {
      unrecognised = true;
    }
  }
  if (unrecognised || events.length === 0) events.push(unknownEvent(message));
  return events;
}

// A message of a subagent (the Task tool's) names the tool call it runs under.
function parentOf(message: JsonObject): { parentToolUseId?: string } {
  const parent = message['parent_tool_use_id'];
  return typeof parent === 'string' && parent !== '' ? { parentToolUseId: parent } : {};
}

function usageOf(usage: JsonObject): TaskUsage {
  return {
    inputTokens: tokenCount(usage['input_tokens']),
    outputTokens: tokenCount(usage['output_tokens']),
    cacheReadTokens: tokenCount(usage['cache_read_input_tokens']),
    cacheCreationTokens: tokenCount(usage['cache_creation_input_tokens']),
  };
}

function mapResult(message: JsonObject): AgentEvent {
  const taskUsage = usageOf(isObject(message['usage']) ? message['usage'] : {});
  const denials = Array.isArray(message['permission_denials'])
    ? message['permission_denials'].filter(isObject).flatMap((denial) =>
        typeof denial['tool_name'] === 'string'
          ? [
              {
                tool: denial['tool_name'],
                ...(typeof denial['tool_use_id'] === 'string' ? { toolUseId: denial['tool_use_id'] } : {}),
              },
            ]
          : [],
      )
    : undefined;
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
      ...(denials ? { permissionDenials: denials } : {}),
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
