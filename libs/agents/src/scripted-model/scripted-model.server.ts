import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  buildMessage,
  buildStreamEvents,
  errorBody,
  formatSse,
  newMessageId,
  newRequestId,
  type ReplyBlock,
  type ReplySpec,
} from './anthropic-message.builder';
import {
  extractCwd,
  isMainLoopRequest,
  type MessagesRequest,
  MessagesRequestSchema,
  stepIndex,
} from './messages-request';
import { InvalidScenario, listScenarios, loadScenario, UnknownScenario } from './scenario.loader';
import {
  API_ERROR_TYPES,
  DEFAULT_USAGE,
  type Scenario,
  type ScenarioStep,
  type ScriptedError,
  type ScriptedUsage,
  stepBlocks,
} from './scenario.schema';
import { renderTemplate, TemplateError, type TemplateValues } from './scenario.template';

export const DEFAULT_SCENARIO = 'reply';
export const DEFAULT_RUN_KEY = 'default';
const SIDE_CALL_TEXT = 'OK.';
const SIDE_CALL_USAGE: ScriptedUsage = {
  inputTokens: 10,
  outputTokens: 2,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const MAX_TRACKED_ATTEMPTS = 10_000;
const RUN_KEY = /^[A-Za-z0-9._-]{1,128}$/;

export interface ScriptedModelOptions {
  port?: number;
  host?: string;
  // Extra scenario directory; its files shadow the shipped ones of the same name.
  scenariosDir?: string;
  onRequest?: (record: ScriptedRequestRecord) => void;
}

export interface ScriptedModel {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ScriptedRequestRecord {
  method: string;
  path: string;
  scenario?: string;
  runKey?: string;
  kind: 'messages' | 'side-call' | 'count-tokens' | 'other';
  model?: string;
  step?: number;
  attempt?: number;
  status: number;
  error?: string;
}

export function scriptedModelBaseUrl(serverUrl: string, scenario: string, runKey: string): string {
  return `${serverUrl.replace(/\/+$/, '')}/s/${encodeURIComponent(scenario)}/${encodeURIComponent(runKey)}`;
}

export async function startScriptedModel(options: ScriptedModelOptions = {}): Promise<ScriptedModel> {
  const host = options.host ?? '127.0.0.1';
  const handler = new ScriptedModelHandler(options.scenariosDir, options.onRequest);
  const server = createServer((req, res) => {
    handler.handle(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendError(res, 500, 'api_error', `scripted model failed: ${message}`);
      else res.destroy();
    });
  });
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () => closeServer(server),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Held-open streams (the `slow` scenario) would otherwise keep close() waiting.
    server.closeAllConnections();
  });
}

interface Route {
  scenario: string;
  runKey: string;
  endpoint: 'messages' | 'count-tokens';
}

const ROUTE = /^(?:\/s\/([^/]+)\/([^/]+))?\/v1\/messages(\/count_tokens)?\/?$/;

function matchRoute(pathname: string): Route | undefined {
  const match = ROUTE.exec(pathname);
  if (!match) return undefined;
  return {
    scenario: match[1] === undefined ? DEFAULT_SCENARIO : decodeURIComponent(match[1]),
    runKey: match[2] === undefined ? DEFAULT_RUN_KEY : decodeURIComponent(match[2]),
    endpoint: match[3] ? 'count-tokens' : 'messages',
  };
}

class ScriptedModelHandler {
  // Attempts per (scenario, run key, step): the one piece of state, for error-then-success steps.
  private readonly attempts = new Map<string, number>();

  constructor(
    private readonly scenariosDir: string | undefined,
    private readonly onRequest: ((record: ScriptedRequestRecord) => void) | undefined,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://scripted-model');
    // Filled in as the request is understood; reported once, with the response status.
    const trace: Omit<ScriptedRequestRecord, 'status'> = {
      method: req.method ?? 'GET',
      path: url.pathname,
      kind: 'other',
    };
    const record = (status: number, error?: string): void =>
      this.onRequest?.({ ...trace, status, ...(error === undefined ? {} : { error }) });
    const fail = (status: number, type: string, message: string): void => {
      sendError(res, status, type, message);
      record(status, message);
    };

    if (trace.method === 'GET' && url.pathname === '/health') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (trace.method === 'GET' && url.pathname === '/scenarios') {
      sendJson(res, 200, { scenarios: await listScenarios(this.scenariosDir) });
      return;
    }
    const route = matchRoute(url.pathname);
    if (!route || trace.method !== 'POST') {
      fail(404, 'not_found_error', `no route for ${trace.method} ${url.pathname}`);
      return;
    }
    trace.scenario = route.scenario;
    trace.runKey = route.runKey;
    trace.kind = route.endpoint === 'count-tokens' ? 'count-tokens' : 'messages';
    const body = await readJsonBody(req);
    if (!body.ok) {
      fail(400, 'invalid_request_error', body.error);
      return;
    }
    if (!RUN_KEY.test(route.runKey)) {
      fail(400, 'invalid_request_error', `run key "${route.runKey}" must match ${RUN_KEY.source}`);
      return;
    }
    let scenario: Scenario;
    try {
      scenario = await loadScenario(route.scenario, this.scenariosDir);
    } catch (error) {
      if (error instanceof UnknownScenario) fail(404, 'not_found_error', error.message);
      else if (error instanceof InvalidScenario) fail(400, 'invalid_request_error', error.message);
      else throw error;
      return;
    }
    if (route.endpoint === 'count-tokens') {
      // Deterministic and roughly proportional to the request, like a real tokenizer.
      sendJson(res, 200, { input_tokens: Math.max(1, Math.ceil(body.size / 4)) });
      record(200);
      return;
    }
    const parsed = MessagesRequestSchema.safeParse(body.value);
    if (!parsed.success) {
      fail(400, 'invalid_request_error', `invalid Messages API request: ${z.prettifyError(parsed.error)}`);
      return;
    }
    const request = parsed.data;
    trace.model = request.model;
    const signal = abortOnClose(res);

    if (!isMainLoopRequest(request)) {
      trace.kind = 'side-call';
      await sendReply(res, request, sideCallSpec(request.model), 0, signal);
      record(200);
      return;
    }

    const step = stepIndex(request);
    trace.step = step;
    const scenarioStep = scenario.steps[step];
    if (!scenarioStep) {
      await sendReply(res, request, pastEndSpec(scenario, step, request.model), 0, signal);
      record(200);
      return;
    }
    const attempt = this.nextAttempt(`${scenario.name}\u0000${route.runKey}\u0000${step}`);
    trace.attempt = attempt;
    const scriptedError = errorForAttempt(scenarioStep.errors, attempt);
    if (scriptedError) {
      sendScriptedError(res, scriptedError);
      record(scriptedError.status);
      return;
    }
    let blocks: ReplyBlock[];
    try {
      blocks = renderBlocks(scenarioStep, step, {
        cwd: extractCwd(request),
        runKey: route.runKey,
        scenario: scenario.name,
        step: String(step),
        sessionId: headerValue(req, 'x-claude-code-session-id'),
      });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      fail(400, 'invalid_request_error', `scenario "${scenario.name}" step ${step}: ${error.message}`);
      return;
    }
    if (scenarioStep.delayMs > 0 && !(await pause(scenarioStep.delayMs, signal))) {
      record(499, 'client closed the connection during the delay');
      return;
    }
    const spec: ReplySpec = {
      model: request.model,
      blocks,
      stopReason:
        scenarioStep.stopReason ??
        (blocks.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      usage: scenarioStep.usage ?? scenario.usage ?? DEFAULT_USAGE,
      chunkSize: scenarioStep.chunkSize,
    };
    await sendReply(res, request, spec, scenarioStep.chunkDelayMs, signal);
    record(200);
  }

  private nextAttempt(key: string): number {
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.delete(key);
    this.attempts.set(key, attempt);
    // Map order is insertion order: the first key is the least recently used.
    if (this.attempts.size > MAX_TRACKED_ATTEMPTS) {
      const oldest = this.attempts.keys().next();
      if (!oldest.done) this.attempts.delete(oldest.value);
    }
    return attempt;
  }
}

export function errorForAttempt(
  errors: readonly ScriptedError[],
  attempt: number,
): ScriptedError | undefined {
  let remaining = attempt;
  for (const error of errors) {
    if (error.times === 'always' || remaining <= error.times) return error;
    remaining -= error.times;
  }
  return undefined;
}

function renderBlocks(step: ScenarioStep, stepNumber: number, values: TemplateValues): ReplyBlock[] {
  return stepBlocks(step).map((block, index): ReplyBlock => {
    switch (block.type) {
      case 'text':
        return { type: 'text', text: renderTemplate(block.text, values).repeat(block.repeat ?? 1) };
      case 'thinking':
        return {
          type: 'thinking',
          thinking: renderTemplate(block.thinking, values),
          signature: 'scripted-signature',
        };
      case 'tool_use':
        return {
          type: 'tool_use',
          id: `toolu_scripted_${stepNumber}_${index}`,
          name: block.name,
          input: renderTemplate(block.input, values),
        };
    }
  });
}

function sideCallSpec(model: string): ReplySpec {
  return {
    model,
    blocks: [{ type: 'text', text: SIDE_CALL_TEXT }],
    stopReason: 'end_turn',
    usage: SIDE_CALL_USAGE,
    chunkSize: 64,
  };
}

function pastEndSpec(scenario: Scenario, step: number, model: string): ReplySpec {
  return {
    model,
    blocks: [
      { type: 'text', text: `Scenario "${scenario.name}" has no step ${step + 1}; nothing more to do.` },
    ],
    stopReason: 'end_turn',
    usage: scenario.usage ?? DEFAULT_USAGE,
    chunkSize: 64,
  };
}

async function sendReply(
  res: ServerResponse,
  request: MessagesRequest,
  spec: ReplySpec,
  chunkDelayMs: number,
  signal: AbortSignal,
): Promise<void> {
  const id = newMessageId();
  if (!request.stream) {
    sendJson(res, 200, buildMessage(id, spec));
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': newRequestId(),
  });
  for (const event of buildStreamEvents(id, spec)) {
    if (signal.aborted) return;
    if (chunkDelayMs > 0 && event.event === 'content_block_delta' && !(await pause(chunkDelayMs, signal)))
      return;
    res.write(formatSse(event));
  }
  res.end();
}

function sendScriptedError(res: ServerResponse, error: ScriptedError): void {
  const type =
    error.type ??
    API_ERROR_TYPES[error.status] ??
    (error.status >= 500 ? 'api_error' : 'invalid_request_error');
  const message = error.message ?? `scripted ${error.status} ${type}`;
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  sendError(res, error.status, type, message, headers);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': newRequestId(),
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const requestId = newRequestId();
  sendJson(res, status, errorBody(type, message, requestId), { ...headers, 'request-id': requestId });
}

type BodyResult = { ok: true; value: unknown; size: number } | { ok: false; error: string };

async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return { ok: false, error: `request body exceeds ${MAX_BODY_BYTES} bytes` };
    chunks.push(buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')), size };
  } catch {
    return { ok: false, error: 'request body is not valid JSON' };
  }
}

function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

// Resolves false when the client went away during the pause.
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
