import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { headerValue, sendJson, sendStream, type StreamFrame } from './http-io';
import { approximateTokens, type ErrorReply, type ModelProtocol, type ViewResult } from './model-protocol';
import { chunkString, randomId, type ReplySpec } from './scripted-reply';

// The Gemini API (`models/<model>:streamGenerateContent?alt=sse` and `:generateContent`), as the
// Gemini CLI calls it through @google/genai.
const PartSchema = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
});
const ContentSchema = z.looseObject({
  role: z.string().optional(),
  parts: z.array(PartSchema).default([]),
});
type Content = z.infer<typeof ContentSchema>;

export const GenerateContentRequestSchema = z.looseObject({
  contents: z.array(ContentSchema),
  generationConfig: z
    .looseObject({
      responseMimeType: z.string().optional(),
      responseJsonSchema: z.unknown().optional(),
      responseSchema: z.unknown().optional(),
    })
    .optional(),
  tools: z.array(z.looseObject({ functionDeclarations: z.array(z.unknown()).optional() })).optional(),
});
export type GenerateContentRequest = z.infer<typeof GenerateContentRequestSchema>;

function contentTexts(content: Content): string[] {
  return content.parts.flatMap((part) =>
    part.thought !== true && part.text !== undefined ? [part.text] : [],
  );
}

// Each earlier reply is one run of consecutive `model` contents.
export function geminiStepIndex(request: GenerateContentRequest): number {
  let replies = 0;
  let inReply = false;
  for (const content of request.contents) {
    const fromModel = content.role === 'model';
    if (fromModel && !inReply) replies += 1;
    inReply = fromModel;
  }
  return replies;
}

// Gemini CLI 0.61 lists "- **Workspace Directories:**" then "  - <dir>" in its session context.
const WORKSPACE_LINE = /Workspace Directories:\**\s*\n\s*-\s*(\S.*?)\s*$/m;
const OLDER_CWD_LINE = /I'm currently working in the directory:\s*(\S.*?)\s*$/m;

// The first turn's user text: the CLI's session context and the prompt.
function promptText(contents: readonly Content[]): string {
  const firstReply = contents.findIndex((content) => content.role === 'model');
  return contents
    .slice(0, firstReply === -1 ? undefined : firstReply)
    .filter((content) => content.role === 'user')
    .flatMap(contentTexts)
    .join('\n');
}

function view(request: GenerateContentRequest, model: string, stream: boolean): ViewResult {
  const userTexts = request.contents.filter((content) => content.role === 'user').flatMap(contentTexts);
  const lastReply = [...request.contents]
    .reverse()
    .find((content) => content.role === 'model' && contentTexts(content).length > 0);
  const cwd = userTexts
    .map((text) => (WORKSPACE_LINE.exec(text) ?? OLDER_CWD_LINE.exec(text))?.[1])
    .find((dir) => dir);
  return {
    ok: true,
    view: {
      model,
      stream,
      mainLoop: (request.tools ?? []).some((tool) => (tool.functionDeclarations?.length ?? 0) > 0),
      step: geminiStepIndex(request),
      cwd,
      userTexts,
      promptText: promptText(request.contents),
      // The CLI keeps a streamed reply as several text parts: they are pieces of one text.
      lastAssistantText: lastReply ? contentTexts(lastReply).join('') : undefined,
      sessionId: undefined,
      sideCallText: sideCallJson(request),
    },
  };
}

// The CLI's side calls (its model router, its next-speaker check) ask for JSON of a given schema
// and retry with backoff when the answer does not parse: answer the smallest value that fits.
function sideCallJson(request: GenerateContentRequest): string | undefined {
  const config = request.generationConfig;
  if (config?.responseMimeType !== 'application/json') return undefined;
  return JSON.stringify(sampleOf(config.responseJsonSchema ?? config.responseSchema));
}

export function sampleOf(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return {};
  const node = schema as Record<string, unknown>;
  if (Array.isArray(node['enum']) && node['enum'].length > 0) return node['enum'][0];
  switch (String(node['type']).toLowerCase()) {
    case 'string':
      return 'scripted';
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    default: {
      const properties = node['properties'];
      if (typeof properties !== 'object' || properties === null) return {};
      return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, sampleOf(value)]));
    }
  }
}

const FINISH_REASONS: Readonly<Record<string, string>> = {
  max_tokens: 'MAX_TOKENS',
  refusal: 'SAFETY',
};

function usageMetadata(spec: ReplySpec): Record<string, number> {
  const { inputTokens, outputTokens, cacheReadInputTokens, cacheCreationInputTokens } = spec.usage;
  // Gemini counts cached tokens inside promptTokenCount and has no cache-write count.
  const prompt = inputTokens + cacheReadInputTokens + cacheCreationInputTokens;
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: outputTokens,
    cachedContentTokenCount: cacheReadInputTokens,
    totalTokenCount: prompt + outputTokens,
  };
}

type Part = Record<string, unknown>;

function replyParts(spec: ReplySpec, chunked: boolean): Part[][] {
  // Text and thoughts stream in pieces; a function call always arrives whole.
  const size = chunked ? spec.chunkSize : Number.MAX_SAFE_INTEGER;
  return spec.blocks.flatMap((block): Part[][] => {
    switch (block.type) {
      case 'text':
        return chunkString(block.text, size).map((text) => [{ text }]);
      case 'thinking':
        return chunkString(block.thinking, size).map((text) => [{ text, thought: true }]);
      case 'tool_use':
        return [[{ functionCall: { name: block.name, args: block.input } }]];
    }
  });
}

function responseChunk(
  spec: ReplySpec,
  responseId: string,
  parts: Part[],
  last: boolean,
): Record<string, unknown> {
  const candidate: Record<string, unknown> = { content: { role: 'model', parts }, index: 0 };
  if (last) candidate['finishReason'] = FINISH_REASONS[spec.stopReason] ?? 'STOP';
  return {
    candidates: [candidate],
    ...(last ? { usageMetadata: usageMetadata(spec) } : {}),
    modelVersion: spec.model,
    responseId,
  };
}

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';
const GOOGLE_STATUSES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export const geminiGenerateProtocol: ModelProtocol = {
  api: 'gemini',

  view(body: unknown, _req, hints): ViewResult {
    const parsed = GenerateContentRequestSchema.safeParse(body);
    if (!parsed.success) {
      return { ok: false, error: `invalid generateContent request: ${z.prettifyError(parsed.error)}` };
    }
    return view(parsed.data, hints.model ?? 'gemini-scripted', hints.stream === true);
  },

  apiKey(req: IncomingMessage, url: URL): string | undefined {
    return headerValue(req, 'x-goog-api-key') || url.searchParams.get('key') || undefined;
  },

  async sendReply(res: ServerResponse, spec: ReplySpec, { stream, chunkDelayMs, signal }): Promise<void> {
    const responseId = randomId('scripted');
    if (!stream) {
      sendJson(res, 200, responseChunk(spec, responseId, replyParts(spec, false).flat(), true));
      return;
    }
    const pieces = replyParts(spec, true);
    const frames: StreamFrame[] = pieces.map((parts, index) => ({
      text: `data: ${JSON.stringify(responseChunk(spec, responseId, parts, index === pieces.length - 1))}\r\n\r\n`,
      delta: index > 0,
    }));
    if (frames.length === 0) {
      frames.push({
        text: `data: ${JSON.stringify(responseChunk(spec, responseId, [], true))}\r\n\r\n`,
        delta: false,
      });
    }
    await sendStream(res, {}, frames, chunkDelayMs, signal);
  },

  sendError(res: ServerResponse, error: ErrorReply): void {
    const status =
      GOOGLE_STATUSES[error.status] ?? (error.status >= 500 ? 'UNAVAILABLE' : 'FAILED_PRECONDITION');
    const headers: Record<string, string> = {};
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    // The Gemini CLI takes its retry delay from RetryInfo, not from the header.
    const details =
      error.rateLimit && error.retryAfterSeconds !== undefined
        ? { details: [{ '@type': RETRY_INFO_TYPE, retryDelay: `${error.retryAfterSeconds}s` }] }
        : {};
    sendJson(
      res,
      error.status,
      { error: { code: error.status, message: error.message, status, ...details } },
      headers,
    );
  },

  sendTokenCount(res: ServerResponse, bodySize: number): void {
    sendJson(res, 200, { totalTokens: approximateTokens(bodySize) });
  },
};
