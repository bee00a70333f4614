import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { bearerToken, headerValue, sendJson, sendStream, type StreamFrame } from './http-io';
import { approximateTokens, type ErrorReply, type ModelProtocol, type ViewResult } from './model-protocol';
import { chunkString, randomId, type ReplyBlock, type ReplySpec } from './scripted-reply';

// The OpenAI Responses API (`POST /v1/responses`), as the Codex CLI calls it with `wire_api = "responses"`.
const InputItemSchema = z.looseObject({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z.unknown().optional(),
});
type InputItem = z.infer<typeof InputItemSchema>;

export const ResponsesRequestSchema = z.looseObject({
  model: z.string().default('gpt-scripted'),
  input: z.union([z.string(), z.array(InputItemSchema)]),
  instructions: z.string().optional(),
  tools: z.array(z.unknown()).optional(),
  stream: z.boolean().optional(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;

// Items the model produced in an earlier reply; one reply may hold several (reasoning, text, calls).
const MODEL_ITEM_TYPES = new Set([
  'reasoning',
  'function_call',
  'custom_tool_call',
  'local_shell_call',
  'web_search_call',
  'tool_search_call',
  'image_generation_call',
]);

function isMessage(item: InputItem): boolean {
  return item.type === undefined || item.type === 'message';
}

function isModelItem(item: InputItem): boolean {
  return (isMessage(item) && item.role === 'assistant') || MODEL_ITEM_TYPES.has(item.type ?? '');
}

function inputItems(request: ResponsesRequest): InputItem[] {
  return typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input;
}

function itemTexts(item: InputItem): string[] {
  if (typeof item.content === 'string') return [item.content];
  if (!Array.isArray(item.content)) return [];
  return item.content.flatMap((part: unknown) =>
    typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string'
      ? [part.text]
      : [],
  );
}

// Each earlier reply is one run of consecutive model items in the input.
export function responsesStepIndex(request: ResponsesRequest): number {
  let replies = 0;
  let inReply = false;
  for (const item of inputItems(request)) {
    const fromModel = isModelItem(item);
    if (fromModel && !inReply) replies += 1;
    inReply = fromModel;
  }
  return replies;
}

// Codex 0.169 sends `<cwd>…</cwd>` inside an `<environment_context>` user message.
const CWD_TAG = /<cwd>([^<]+)<\/cwd>/;

// The first turn's user text: Codex sends its environment context (and AGENTS.md) as user
// messages of their own before the prompt.
function promptText(items: readonly InputItem[]): string {
  const firstReply = items.findIndex(isModelItem);
  return items
    .slice(0, firstReply === -1 ? undefined : firstReply)
    .filter((item) => isMessage(item) && item.role === 'user')
    .flatMap(itemTexts)
    .join('\n');
}

function view(request: ResponsesRequest, req: IncomingMessage): ViewResult {
  const items = inputItems(request);
  const messages = items.filter(isMessage);
  const texts = [request.instructions ?? '', ...messages.flatMap(itemTexts)];
  const lastReply = [...messages]
    .reverse()
    .find((item) => item.role === 'assistant' && itemTexts(item).length);
  return {
    ok: true,
    view: {
      model: request.model,
      stream: request.stream === true,
      mainLoop: (request.tools?.length ?? 0) > 0 || items.some((item) => item.type === 'additional_tools'),
      step: responsesStepIndex(request),
      cwd: texts.map((text) => CWD_TAG.exec(text)?.[1]?.trim()).find((cwd) => cwd),
      userTexts: messages.filter((item) => item.role === 'user').flatMap(itemTexts),
      promptText: promptText(items),
      lastAssistantText: lastReply ? itemTexts(lastReply).join('') : undefined,
      sessionId: headerValue(req, 'session-id') ?? headerValue(req, 'thread-id'),
    },
  };
}

function usageJson(spec: ReplySpec): Record<string, unknown> {
  const { inputTokens, outputTokens, cacheReadInputTokens, cacheCreationInputTokens } = spec.usage;
  // OpenAI counts cached tokens inside input_tokens; Codex reports cache writes from cache_write_tokens.
  const input = inputTokens + cacheReadInputTokens + cacheCreationInputTokens;
  return {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: cacheReadInputTokens,
      cache_write_tokens: cacheCreationInputTokens,
    },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + outputTokens,
  };
}

interface RenderedItem {
  done: Record<string, unknown>;
  events: { type: string; data: Record<string, unknown>; delta: boolean }[];
}

function renderItem(block: ReplyBlock, outputIndex: number, chunkSize: number): RenderedItem {
  const at = { output_index: outputIndex };
  switch (block.type) {
    case 'text': {
      const id = randomId('msg_scripted_');
      const part = { type: 'output_text', text: block.text, annotations: [] };
      const done = { id, type: 'message', role: 'assistant', status: 'completed', content: [part] };
      const where = { item_id: id, ...at, content_index: 0 };
      return {
        done,
        events: [
          {
            type: 'response.output_item.added',
            data: { ...at, item: { ...done, status: 'in_progress', content: [] } },
            delta: false,
          },
          {
            type: 'response.content_part.added',
            data: { ...where, part: { ...part, text: '' } },
            delta: false,
          },
          ...chunkString(block.text, chunkSize).map((delta) => ({
            type: 'response.output_text.delta',
            data: { ...where, delta },
            delta: true,
          })),
          { type: 'response.output_text.done', data: { ...where, text: block.text }, delta: false },
          { type: 'response.content_part.done', data: { ...where, part }, delta: false },
        ],
      };
    }
    case 'thinking': {
      const id = randomId('rs_scripted_');
      const summary = { type: 'summary_text', text: block.thinking };
      const done = { id, type: 'reasoning', summary: [summary] };
      const where = { item_id: id, ...at, summary_index: 0 };
      return {
        done,
        events: [
          {
            type: 'response.output_item.added',
            data: { ...at, item: { ...done, summary: [] } },
            delta: false,
          },
          {
            type: 'response.reasoning_summary_part.added',
            data: { ...where, part: { ...summary, text: '' } },
            delta: false,
          },
          ...chunkString(block.thinking, chunkSize).map((delta) => ({
            type: 'response.reasoning_summary_text.delta',
            data: { ...where, delta },
            delta: true,
          })),
          {
            type: 'response.reasoning_summary_text.done',
            data: { ...where, text: block.thinking },
            delta: false,
          },
          { type: 'response.reasoning_summary_part.done', data: { ...where, part: summary }, delta: false },
        ],
      };
    }
    case 'tool_use': {
      const id = `fc_${block.id}`;
      const args = JSON.stringify(block.input);
      const done = {
        id,
        type: 'function_call',
        status: 'completed',
        call_id: block.id,
        name: block.name,
        arguments: args,
      };
      return {
        done,
        events: [
          {
            type: 'response.output_item.added',
            data: { ...at, item: { ...done, status: 'in_progress', arguments: '' } },
            delta: false,
          },
          ...chunkString(args, chunkSize).map((delta) => ({
            type: 'response.function_call_arguments.delta',
            data: { item_id: id, ...at, delta },
            delta: true,
          })),
          {
            type: 'response.function_call_arguments.done',
            data: { item_id: id, ...at, arguments: args },
            delta: false,
          },
        ],
      };
    }
  }
}

function responseObject(
  id: string,
  spec: ReplySpec,
  output: Record<string, unknown>[],
): Record<string, unknown> {
  const incomplete = spec.stopReason === 'max_tokens';
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: incomplete ? 'incomplete' : 'completed',
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    model: spec.model,
    output,
    usage: usageJson(spec),
  };
}

// The event sequence of a streamed Responses API reply, deltas cut into `chunkSize` pieces.
export function buildResponsesStream(
  id: string,
  spec: ReplySpec,
): { type: string; data: Record<string, unknown>; delta: boolean }[] {
  const items = spec.blocks.map((block, index) => renderItem(block, index, spec.chunkSize));
  const output = items.map((item) => item.done);
  const created = { ...responseObject(id, spec, []), status: 'in_progress', usage: null };
  const completedType = spec.stopReason === 'max_tokens' ? 'response.incomplete' : 'response.completed';
  return [
    { type: 'response.created', data: { response: created }, delta: false },
    { type: 'response.in_progress', data: { response: created }, delta: false },
    ...items.flatMap((item, index) => [
      ...item.events,
      { type: 'response.output_item.done', data: { output_index: index, item: item.done }, delta: false },
    ]),
    { type: completedType, data: { response: responseObject(id, spec, output) }, delta: false },
  ];
}

// OpenAI's `x-ratelimit-reset-*` durations, as Go prints them: "20ms", "1.5s", "6m0s", "1h2m3s".
export function openAiDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const seconds = `${(whole % 60_000) / 1000}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

const OPENAI_ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'invalid_request_error',
  404: 'invalid_request_error',
  429: 'rate_limit_exceeded',
};

export const openAiResponsesProtocol: ModelProtocol = {
  api: 'openai-responses',

  view(body: unknown, req: IncomingMessage): ViewResult {
    const parsed = ResponsesRequestSchema.safeParse(body);
    if (!parsed.success) {
      return { ok: false, error: `invalid Responses API request: ${z.prettifyError(parsed.error)}` };
    }
    return view(parsed.data, req);
  },

  apiKey(req: IncomingMessage): string | undefined {
    return bearerToken(req);
  },

  async sendReply(res: ServerResponse, spec: ReplySpec, { stream, chunkDelayMs, signal }): Promise<void> {
    const id = randomId('resp_scripted_');
    const requestId = { 'x-request-id': randomId('req_scripted_') };
    if (!stream) {
      const output = spec.blocks.map((block, index) => renderItem(block, index, spec.chunkSize).done);
      sendJson(res, 200, responseObject(id, spec, output), requestId);
      return;
    }
    const frames: StreamFrame[] = buildResponsesStream(id, spec).map((event, sequence) => ({
      text: `event: ${event.type}\ndata: ${JSON.stringify({ type: event.type, sequence_number: sequence, ...event.data })}\n\n`,
      delta: event.delta,
    }));
    await sendStream(res, requestId, frames, chunkDelayMs, signal);
  },

  sendError(res: ServerResponse, error: ErrorReply): void {
    let type = OPENAI_ERROR_TYPES[error.status] ?? 'server_error';
    let code = error.type ?? null;
    const headers: Record<string, string> = { 'x-request-id': randomId('req_scripted_') };
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    if (error.rateLimit) {
      // What OpenAI answers when a key is over its requests-per-minute limit.
      type = 'requests';
      code = 'rate_limit_exceeded';
      headers['x-ratelimit-limit-requests'] = String(error.rateLimit.limit);
      headers['x-ratelimit-remaining-requests'] = '0';
      headers['x-ratelimit-reset-requests'] = openAiDuration(error.rateLimit.resetInMs);
    }
    sendJson(res, error.status, { error: { message: error.message, type, param: null, code } }, headers);
  },

  sendTokenCount(res: ServerResponse, bodySize: number): void {
    sendJson(res, 200, { object: 'response.input_tokens', input_tokens: approximateTokens(bodySize) });
  },
};
