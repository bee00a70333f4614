import type { AgentEvent, TaskUsage } from '@hangar/contracts';
import {
  isObject,
  type JsonObject,
  JsonLinesParser,
  optionalString,
  tokenCount,
  unknownEvent,
} from '../agent-output.parser';

// `codex exec --json` (0.169) prints one event per line: thread.started, turn.started,
// item.started / item.updated / item.completed, turn.completed with usage, turn.failed, error.
// Items: agent_message, reasoning, command_execution, file_change, mcp_tool_call, web_search,
// todo_list and error (a non-fatal warning).
export class CodexStreamParser extends JsonLinesParser {
  private threadId: string | null = null;
  private lastMessage: string | null = null;
  // Tool items already announced with a tool.use event.
  private readonly started = new Set<string>();

  protected parseObject(message: JsonObject): AgentEvent[] {
    switch (message['type']) {
      case 'thread.started':
        return this.threadStarted(message);
      case 'item.started':
      case 'item.updated':
        return this.itemStarted(message);
      case 'item.completed':
        return this.itemCompleted(message);
      case 'turn.completed':
        return [this.result(message, null)];
      case 'turn.failed':
        return [this.result(message, isObject(message['error']) ? message['error'] : {})];
      case 'error':
        return [retryNotice(message) ?? unknownEvent(message)];
      default:
        return [unknownEvent(message)];
    }
  }

  private threadStarted(message: JsonObject): AgentEvent[] {
    const threadId = optionalString(message['thread_id']);
    if (!threadId) return [unknownEvent(message)];
    this.threadId = threadId;
    return [{ type: 'system.init', data: { sessionId: threadId, tools: [] } }];
  }

  private itemStarted(message: JsonObject): AgentEvent[] {
    const item = toolItem(message);
    if (!item || this.started.has(item.id)) return [unknownEvent(message)];
    this.started.add(item.id);
    return [{ type: 'tool.use', data: { toolUseId: item.id, name: item.name, input: item.input } }];
  }

  private itemCompleted(message: JsonObject): AgentEvent[] {
    const item = isObject(message['item']) ? message['item'] : undefined;
    const id = optionalString(item?.['id']);
    if (!item || !id) return [unknownEvent(message)];
    if (item['type'] === 'agent_message' && typeof item['text'] === 'string') {
      this.lastMessage = item['text'];
      return [{ type: 'assistant.text', data: { text: item['text'], messageId: id } }];
    }
    if (item['type'] === 'reasoning' && typeof item['text'] === 'string') {
      return [{ type: 'assistant.thinking', data: { text: item['text'] } }];
    }
    const tool = toolItem(message);
    if (!tool) return [unknownEvent(message)];
    // Some items (a web search, a quick file change) may arrive completed without a start.
    const events: AgentEvent[] = this.started.has(id)
      ? []
      : [{ type: 'tool.use', data: { toolUseId: id, name: tool.name, input: tool.input } }];
    this.started.delete(id);
    events.push({ type: 'tool.result', data: { toolUseId: id, content: tool.output, isError: tool.failed } });
    return events;
  }

  private result(message: JsonObject, error: JsonObject | null): AgentEvent {
    const usage = isObject(message['usage']) ? message['usage'] : {};
    const input = tokenCount(usage['input_tokens']);
    const cacheRead = tokenCount(usage['cached_input_tokens']);
    const cacheWrite = tokenCount(usage['cache_write_input_tokens']);
    // OpenAI counts cached tokens inside input_tokens; Hangar (like Claude Code) counts them apart.
    const taskUsage: TaskUsage = {
      inputTokens: Math.max(0, input - cacheRead - cacheWrite),
      outputTokens: tokenCount(usage['output_tokens']),
      cacheReadTokens: cacheRead,
      cacheCreationTokens: cacheWrite,
    };
    return {
      type: 'result',
      data: {
        subtype: error ? 'error' : 'success',
        isError: error !== null,
        result: error ? (optionalString(error['message']) ?? null) : this.lastMessage,
        // codex does not price its runs.
        costUsd: null,
        usage: taskUsage,
        numTurns: null,
        durationMs: null,
        sessionId: this.threadId,
      },
    };
  }
}

interface ToolItem {
  id: string;
  name: string;
  input: unknown;
  output: string;
  failed: boolean;
}

// Command executions, file changes, MCP calls and web searches are the tool calls of a codex turn.
function toolItem(message: JsonObject): ToolItem | undefined {
  const item = isObject(message['item']) ? message['item'] : undefined;
  const id = optionalString(item?.['id']);
  if (!item || !id) return undefined;
  const failed = item['status'] === 'failed' || item['status'] === 'declined';
  switch (item['type']) {
    case 'command_execution': {
      const exitCode = item['exit_code'];
      return {
        id,
        name: 'command_execution',
        input: { command: item['command'] },
        output: optionalString(item['aggregated_output']) ?? '',
        failed: failed || (typeof exitCode === 'number' && exitCode !== 0),
      };
    }
    case 'file_change': {
      const changes = Array.isArray(item['changes']) ? item['changes'].filter(isObject) : [];
      return {
        id,
        name: 'file_change',
        input: { changes },
        output: changes.map((change) => `${String(change['kind'])} ${String(change['path'])}`).join('\n'),
        failed,
      };
    }
    case 'mcp_tool_call': {
      const error = isObject(item['error']) ? optionalString(item['error']['message']) : undefined;
      return {
        id,
        name: `mcp__${String(item['server'])}__${String(item['tool'])}`,
        input: item['arguments'] ?? {},
        output:
          error ??
          (item['result'] === undefined || item['result'] === null ? '' : JSON.stringify(item['result'])),
        failed: failed || error !== undefined,
      };
    }
    case 'web_search':
      return { id, name: 'web_search', input: { query: item['query'] }, output: '', failed };
    default:
      return undefined;
  }
}

// codex prints `Reconnecting... 2/5 (<reason>)` as a top-level error while it retries the model API.
const RECONNECTING = /^Reconnecting\.\.\. (\d+)\/(\d+)(?: \((.*)\))?$/s;
const LAST_STATUS = /last status: (\d{3})\b/;

function retryNotice(message: JsonObject): AgentEvent | undefined {
  const match = RECONNECTING.exec(optionalString(message['message']) ?? '');
  if (!match) return undefined;
  const status = match[3] === undefined ? undefined : LAST_STATUS.exec(match[3])?.[1];
  return {
    type: 'api.retry',
    data: {
      attempt: Number(match[1]),
      maxRetries: Number(match[2]),
      ...(status === undefined ? {} : { status: Number(status) }),
      ...(match[3] === undefined ? {} : { error: match[3] }),
    },
  };
}
