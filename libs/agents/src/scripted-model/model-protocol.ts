import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReplySpec } from './scripted-reply';

// The model APIs the scripted model speaks: one per agent CLI it serves.
export const MODEL_APIS = ['anthropic', 'openai-responses', 'gemini'] as const;
export type ModelApi = (typeof MODEL_APIS)[number];

// What the scripted model needs to know about a model request, whatever API it came through.
export interface ModelRequestView {
  model: string;
  stream: boolean;
  // A CLI's main agent loop always offers tools; titles, summaries and routers do not.
  mainLoop: boolean;
  // How many model replies the conversation already holds: stateless, so a retried request or
  // a resumed session lands on the right step.
  step: number;
  cwd: string | undefined;
  // Text the user wrote, in order, without tool results (the scenario marker is looked for here).
  userTexts: string[];
  // The user's text before the model's first reply: the prompt, with whatever context the CLI
  // puts around it (a scenario's `cases` are chosen by it). The same for every call of a run.
  promptText: string;
  // The text of the most recent model reply that has text.
  lastAssistantText: string | undefined;
  // The text of the most recent tool result (Anthropic Messages only).
  lastToolResultText?: string | undefined;
  sessionId: string | undefined;
  // What to answer a side call with, when the request dictates its shape (a JSON schema).
  sideCallText?: string;
}

export type ViewResult = { ok: true; view: ModelRequestView } | { ok: false; error: string };

export interface ErrorReply {
  status: number;
  message: string;
  // An Anthropic error type from a scenario; other APIs derive their own from the status.
  type?: string;
  retryAfterSeconds?: number;
  // Set when a rate-limited API key is refused: each API then adds its own rate-limit headers.
  rateLimit?: RateLimitDetails;
}

export interface RateLimitDetails {
  // Requests allowed per window, for the `*-limit-requests` headers.
  limit: number;
  // When the key may be used again (epoch ms), and how long until then.
  resetAt: number;
  resetInMs: number;
}

export interface ReplyOptions {
  stream: boolean;
  chunkDelayMs: number;
  signal: AbortSignal;
}

// What the URL says about the request (Gemini names the model and streaming in the path).
export interface EndpointHints {
  model?: string;
  stream?: boolean;
}

export interface ModelProtocol {
  readonly api: ModelApi;
  view(body: unknown, req: IncomingMessage, hints: EndpointHints): ViewResult;
  // The API key the request was made with, read where this API's clients send it.
  apiKey(req: IncomingMessage, url: URL): string | undefined;
  sendReply(res: ServerResponse, spec: ReplySpec, options: ReplyOptions): Promise<void>;
  sendError(res: ServerResponse, error: ErrorReply): void;
  // A deterministic token count, roughly proportional to the request like a real tokenizer.
  sendTokenCount(res: ServerResponse, bodySize: number): void;
}

export function approximateTokens(bodySize: number): number {
  return Math.max(1, Math.ceil(bodySize / 4));
}
