import { chunkString, randomId, type ReplyBlock, type ReplySpec, type SseEvent } from './scripted-reply';
import type { ScriptedUsage } from './scenario.schema';

export function newMessageId(): string {
  return randomId('msg_scripted_');
}

export function newRequestId(): string {
  return randomId('req_scripted_');
}

function usageJson(usage: ScriptedUsage, outputTokens: number): Record<string, number> {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: outputTokens,
    cache_creation_input_tokens: usage.cacheCreationInputTokens,
    cache_read_input_tokens: usage.cacheReadInputTokens,
  };
}

export function buildMessage(id: string, spec: ReplySpec): Record<string, unknown> {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: spec.model,
    content: spec.blocks,
    stop_reason: spec.stopReason,
    stop_sequence: null,
    usage: usageJson(spec.usage, spec.usage.outputTokens),
  };
}

// The event sequence of a streamed Messages API reply, deltas cut into `chunkSize` pieces.
export function buildStreamEvents(id: string, spec: ReplySpec): SseEvent[] {
  const events: SseEvent[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          ...buildMessage(id, spec),
          content: [],
          stop_reason: null,
          usage: usageJson(spec.usage, 0),
        },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
  ];
  spec.blocks.forEach((block, index) => {
    events.push({
      event: 'content_block_start',
      data: { type: 'content_block_start', index, content_block: emptyBlock(block) },
    });
    for (const delta of blockDeltas(block, spec.chunkSize)) {
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } });
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push(
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: spec.stopReason, stop_sequence: null },
        usage: usageJson(spec.usage, spec.usage.outputTokens),
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return events;
}

function emptyBlock(block: ReplyBlock): Record<string, unknown> {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: '' };
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: {} };
  }
}

function blockDeltas(block: ReplyBlock, chunkSize: number): Record<string, unknown>[] {
  switch (block.type) {
    case 'text':
      return chunkString(block.text, chunkSize).map((text) => ({ type: 'text_delta', text }));
    case 'thinking':
      return [
        ...chunkString(block.thinking, chunkSize).map((thinking) => ({ type: 'thinking_delta', thinking })),
        { type: 'signature_delta', signature: block.signature },
      ];
    case 'tool_use':
      return chunkString(JSON.stringify(block.input), chunkSize).map((partial) => ({
        type: 'input_json_delta',
        partial_json: partial,
      }));
  }
}

export function errorBody(type: string, message: string, requestId: string): Record<string, unknown> {
  return { type: 'error', error: { type, message }, request_id: requestId };
}
