import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  buildMessage,
  buildStreamEvents,
  errorBody,
  newMessageId,
  newRequestId,
} from './anthropic-message.builder';
import { bearerToken, headerValue, sendJson, sendStream } from './http-io';
import {
  extractCwd,
  isMainLoopRequest,
  lastAssistantText,
  lastToolResultText,
  MessagesRequestSchema,
  promptText,
  stepIndex,
  userTexts,
} from './messages-request';
import { approximateTokens, type ErrorReply, type ModelProtocol, type ViewResult } from './model-protocol';
import { API_ERROR_TYPES } from './scenario.schema';
import { formatSse, type ReplySpec } from './scripted-reply';

// The Anthropic Messages API, as Claude Code calls it.
export const anthropicMessagesProtocol: ModelProtocol = {
  api: 'anthropic',

  view(body: unknown, req: IncomingMessage): ViewResult {
    const parsed = MessagesRequestSchema.safeParse(body);
    if (!parsed.success) {
      return { ok: false, error: `invalid Messages API request: ${z.prettifyError(parsed.error)}` };
    }
    const request = parsed.data;
    return {
      ok: true,
      view: {
        model: request.model,
        stream: request.stream === true,
        mainLoop: isMainLoopRequest(request),
        step: stepIndex(request),
        cwd: extractCwd(request),
        userTexts: userTexts(request),
        promptText: promptText(request),
        lastAssistantText: lastAssistantText(request),
        lastToolResultText: lastToolResultText(request),
        sessionId: headerValue(req, 'x-claude-code-session-id'),
      },
    };
  },

  apiKey(req: IncomingMessage): string | undefined {
    return headerValue(req, 'x-api-key') || bearerToken(req);
  },

  async sendReply(res: ServerResponse, spec: ReplySpec, { stream, chunkDelayMs, signal }): Promise<void> {
    const id = newMessageId();
    if (!stream) {
      sendJson(res, 200, buildMessage(id, spec), { 'request-id': newRequestId() });
      return;
    }
    const frames = buildStreamEvents(id, spec).map((event) => ({
      text: formatSse(event),
      delta: event.event === 'content_block_delta',
    }));
    await sendStream(res, { 'request-id': newRequestId() }, frames, chunkDelayMs, signal);
  },

  sendError(res: ServerResponse, error: ErrorReply): void {
    const type =
      error.type ??
      API_ERROR_TYPES[error.status] ??
      (error.status >= 500 ? 'api_error' : 'invalid_request_error');
    const requestId = newRequestId();
    const headers: Record<string, string> = { 'request-id': requestId };
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    if (error.rateLimit) {
      headers['anthropic-ratelimit-requests-limit'] = String(error.rateLimit.limit);
      headers['anthropic-ratelimit-requests-remaining'] = '0';
      headers['anthropic-ratelimit-requests-reset'] = new Date(error.rateLimit.resetAt).toISOString();
    }
    sendJson(res, error.status, errorBody(type, error.message, requestId), headers);
  },

  sendTokenCount(res: ServerResponse, bodySize: number): void {
    sendJson(res, 200, { input_tokens: approximateTokens(bodySize) }, { 'request-id': newRequestId() });
  },
};
