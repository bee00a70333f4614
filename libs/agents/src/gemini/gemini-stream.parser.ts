import type { AgentEvent, TaskUsage } from '@hangar/contracts';
import {
  integerOrNull,
  isObject,
  type JsonObject,
  JsonLinesParser,
  optionalString,
  tokenCount,
  unknownEvent,
} from '../agent-output.parser';

// `gemini -p … --output-format stream-json` (0.61) prints one event per line: init, message
// (user echo, or assistant text in deltas), tool_use, tool_result, error (a warning) and result.
export class GeminiStreamParser extends JsonLinesParser {
  private sessionId: string | null = null;
  // Assistant deltas since the last other event: they make one assistant.text, as Claude's do.
  private pendingText = '';
  // The reply after the last tool call is the run's result text.
  private replyText = '';

  protected parseObject(message: JsonObject): AgentEvent[] {
    if (
      message['type'] === 'message' &&
      message['role'] === 'assistant' &&
      typeof message['content'] === 'string'
    ) {
      this.pendingText += message['content'];
      this.replyText += message['content'];
      return [];
    }
    return [...this.flush(), ...this.mapEvent(message)];
  }

  protected override flush(): AgentEvent[] {
    if (this.pendingText === '') return [];
    const text = this.pendingText;
    this.pendingText = '';
    return [{ type: 'assistant.text', data: { text } }];
  }

  private mapEvent(message: JsonObject): AgentEvent[] {
    switch (message['type']) {
      case 'init': {
        const sessionId = optionalString(message['session_id']);
        if (!sessionId) return [unknownEvent(message)];
        this.sessionId = sessionId;
        return [
          { type: 'system.init', data: { sessionId, model: optionalString(message['model']), tools: [] } },
        ];
      }
      case 'tool_use': {
        const toolUseId = optionalString(message['tool_id']);
        const name = optionalString(message['tool_name']);
        if (!toolUseId || !name) return [unknownEvent(message)];
        this.replyText = '';
        return [{ type: 'tool.use', data: { toolUseId, name, input: message['parameters'] ?? {} } }];
      }
      case 'tool_result':
        return [toolResult(message)];
      case 'result':
        return [this.result(message)];
      default:
        return [unknownEvent(message)];
    }
  }

  private result(message: JsonObject): AgentEvent {
    const stats = isObject(message['stats']) ? message['stats'] : {};
    const error = isObject(message['error']) ? message['error'] : undefined;
    const cached = tokenCount(stats['cached']);
    // `input` is the prompt tokens not served from cache; older releases only had input_tokens.
    const input =
      stats['input'] === undefined ? tokenCount(stats['input_tokens']) - cached : tokenCount(stats['input']);
    const usage: TaskUsage = {
      inputTokens: Math.max(0, input),
      outputTokens: tokenCount(stats['output_tokens']),
      cacheReadTokens: cached,
      cacheCreationTokens: 0,
    };
    const success = message['status'] === 'success';
    return {
      type: 'result',
      data: {
        subtype: success ? 'success' : (optionalString(error?.['type']) ?? 'error'),
        isError: !success,
        result: success ? this.replyText : (optionalString(error?.['message']) ?? null),
        // The Gemini CLI does not price its runs.
        costUsd: null,
        usage,
        numTurns: null,
        durationMs: integerOrNull(stats['duration_ms']),
        sessionId: this.sessionId,
      },
    };
  }
}

function toolResult(message: JsonObject): AgentEvent {
  const toolUseId = optionalString(message['tool_id']);
  if (!toolUseId) return unknownEvent(message);
  const error = isObject(message['error']) ? message['error'] : undefined;
  const output = optionalString(message['output']);
  const isError = message['status'] !== 'success';
  return {
    type: 'tool.result',
    data: {
      toolUseId,
      content: isError ? (optionalString(error?.['message']) ?? output ?? '') : (output ?? ''),
      isError,
    },
  };
}
