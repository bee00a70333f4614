import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { AgentProvider } from '../agent-provider';
import { anthropicMessagesProtocol } from './anthropic-messages.protocol';
import { geminiGenerateProtocol } from './gemini-generate.protocol';
import { abortOnClose, pause, readJsonBody, sendJson } from './http-io';
import { KeyRateLimits, RateLimitRequestSchema, refusalReply } from './key-rate-limits';
import type { EndpointHints, ModelApi, ModelProtocol, ModelRequestView } from './model-protocol';
import { openAiResponsesProtocol } from './openai-responses.protocol';
import { scenarioFromTexts } from './scenario-marker';
import { InvalidScenario, listScenarios, loadScenario, UnknownScenario } from './scenario.loader';
import {
  API_ERROR_TYPES,
  DEFAULT_USAGE,
  type Scenario,
  type ScenarioStep,
  type ScriptedError,
  type ScriptedUsage,
  stepBlocks,
  stepsForPrompt,
} from './scenario.schema';
import { renderTemplate, TemplateError, type TemplateValues } from './scenario.template';
import type { ReplyBlock, ReplySpec } from './scripted-reply';

export const DEFAULT_SCENARIO = 'reply';
export const DEFAULT_RUN_KEY = 'default';
// Not a scenario: on this route (and the default one) the prompt's `[scenario: …]` marker chooses.
export const AUTO_SCENARIO = 'auto';
const SIDE_CALL_TEXT = 'OK.';
const SIDE_CALL_USAGE: ScriptedUsage = {
  inputTokens: 10,
  outputTokens: 2,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};
const MAX_TRACKED_ATTEMPTS = 10_000;
const RUN_KEY = /^[A-Za-z0-9._-]{1,128}$/;
// Test control: rate-limit an API key (see KeyRateLimits).
export const RATE_LIMITS_PATH = '/_scripted/rate-limits';

export interface ScriptedModelOptions {
  port?: number;
  host?: string;
  // Extra scenario directory; its files shadow the shipped ones of the same name.
  scenariosDir?: string;
  onRequest?: (record: ScriptedRequestRecord) => void;
  // Also listen on this Unix socket: a sandbox reaches the model through one (@hangar/sandbox).
  socketPath?: string;
}

export interface ScriptedModel {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ScriptedRequestRecord {
  method: string;
  path: string;
  api?: ModelApi;
  scenario?: string;
  runKey?: string;
  kind: 'messages' | 'side-call' | 'count-tokens' | 'other';
  model?: string;
  // The index of the scenario's case that answered, when one did.
  case?: number;
  step?: number;
  attempt?: number;
  status: number;
  error?: string;
}

// The base URL an agent CLI needs to reach the scripted model for one run. Claude Code and the
// Gemini CLI append their API paths to it; Codex's OpenAI provider expects the `/v1` in its base URL.
export function scriptedModelBaseUrl(
  serverUrl: string,
  scenario: string,
  runKey: string,
  provider: AgentProvider = 'claude',
): string {
  const base = `${serverUrl.replace(/\/+$/, '')}/s/${encodeURIComponent(scenario)}/${encodeURIComponent(runKey)}`;
  return provider === 'codex' ? `${base}/v1` : base;
}

export async function startScriptedModel(options: ScriptedModelOptions = {}): Promise<ScriptedModel> {
  const host = options.host ?? '127.0.0.1';
  const handler = new ScriptedModelHandler(options.scenariosDir, options.onRequest);
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    handler.handle(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendJson(res, 500, { error: { message: `scripted model failed: ${message}` } });
      else res.destroy();
    });
  };
  const server = createServer(serve);
  await listen(server, { port: options.port ?? 0, host });
  const { port } = server.address() as AddressInfo;
  const onSocket = options.socketPath ? createServer(serve) : undefined;
  if (onSocket && options.socketPath) await listen(onSocket, { path: options.socketPath });
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: async () => {
      await Promise.all([closeServer(server), ...(onSocket ? [closeServer(onSocket)] : [])]);
    },
  };
}

function listen(server: Server, address: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
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
  // Undefined on the default route (no `/s/<scenario>/<runKey>` prefix).
  scenario: string | undefined;
  runKey: string;
  protocol: ModelProtocol;
  endpoint: 'generate' | 'count-tokens';
  hints: EndpointHints;
}

const PREFIX = /^(?:\/s\/([^/]+)\/([^/]+))?(\/.*)$/;
const GEMINI_PATH =
  /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;

function matchEndpoint(rest: string): Omit<Route, 'scenario' | 'runKey'> | undefined {
  const trimmed = rest.length > 1 ? rest.replace(/\/$/, '') : rest;
  if (trimmed === '/v1/messages')
    return { protocol: anthropicMessagesProtocol, endpoint: 'generate', hints: {} };
  if (trimmed === '/v1/messages/count_tokens') {
    return { protocol: anthropicMessagesProtocol, endpoint: 'count-tokens', hints: {} };
  }
  if (trimmed === '/v1/responses')
    return { protocol: openAiResponsesProtocol, endpoint: 'generate', hints: {} };
  if (trimmed === '/v1/responses/input_tokens') {
    return { protocol: openAiResponsesProtocol, endpoint: 'count-tokens', hints: {} };
  }
  const gemini = GEMINI_PATH.exec(trimmed);
  if (gemini?.[1] && gemini[2]) {
    const method = gemini[2];
    return {
      protocol: geminiGenerateProtocol,
      endpoint: method === 'countTokens' ? 'count-tokens' : 'generate',
      hints: { model: decodeURIComponent(gemini[1]), stream: method === 'streamGenerateContent' },
    };
  }
  return undefined;
}

function matchRoute(pathname: string): Route | undefined {
  const match = PREFIX.exec(pathname);
  const endpoint = match?.[3] === undefined ? undefined : matchEndpoint(match[3]);
  if (!match || !endpoint) return undefined;
  return {
    ...endpoint,
    scenario: match[1] === undefined ? undefined : decodeURIComponent(match[1]),
    runKey: match[2] === undefined ? DEFAULT_RUN_KEY : decodeURIComponent(match[2]),
  };
}

// The route's scenario, or on the default and `auto` routes the prompt's marker, else `reply`.
function chooseScenario(route: Route, view: ModelRequestView | undefined): string {
  if (route.scenario !== undefined && route.scenario !== AUTO_SCENARIO) return route.scenario;
  return (view && scenarioFromTexts(view.userTexts)) ?? DEFAULT_SCENARIO;
}

class ScriptedModelHandler {
  // Attempts per (scenario, run key, step): the one piece of state, for error-then-success steps.
  private readonly attempts = new Map<string, number>();
  private readonly rateLimits = new KeyRateLimits();

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

    if (trace.method === 'GET' && url.pathname === '/health') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (trace.method === 'GET' && url.pathname === '/scenarios') {
      sendJson(res, 200, { scenarios: await listScenarios(this.scenariosDir) });
      return;
    }
    if (url.pathname === RATE_LIMITS_PATH) {
      await this.controlRateLimits(req, res);
      return;
    }
    const route = matchRoute(url.pathname);
    if (!route || trace.method !== 'POST') {
      const message = `no route for ${trace.method} ${url.pathname}`;
      (route?.protocol ?? anthropicMessagesProtocol).sendError(res, { status: 404, message });
      record(404, message);
      return;
    }
    const protocol = route.protocol;
    const fail = (status: number, message: string): void => {
      protocol.sendError(res, { status, message });
      record(status, message);
    };
    trace.api = protocol.api;
    trace.runKey = route.runKey;
    trace.kind = route.endpoint === 'count-tokens' ? 'count-tokens' : 'messages';
    const body = await readJsonBody(req);
    // A limited key is refused before anything else, as the provider's edge would; the scenario
    // never sees the call, so its attempts do not advance.
    const apiKey = route.endpoint === 'generate' ? protocol.apiKey(req, url) : undefined;
    const refusal = apiKey === undefined ? undefined : this.rateLimits.admit(apiKey);
    if (refusal) {
      const error = refusalReply(refusal);
      protocol.sendError(res, error);
      record(error.status, error.message);
      return;
    }
    if (!body.ok) {
      fail(400, body.error);
      return;
    }
    if (!RUN_KEY.test(route.runKey)) {
      fail(400, `run key "${route.runKey}" must match ${RUN_KEY.source}`);
      return;
    }
    const parsed = route.endpoint === 'generate' ? protocol.view(body.value, req, route.hints) : undefined;
    if (parsed && !parsed.ok) {
      fail(400, parsed.error);
      return;
    }
    const view = parsed?.view;
    trace.scenario = chooseScenario(route, view);
    let scenario: Scenario;
    try {
      scenario = await loadScenario(trace.scenario, this.scenariosDir);
    } catch (error) {
      if (error instanceof UnknownScenario) fail(404, error.message);
      else if (error instanceof InvalidScenario) fail(400, error.message);
      else throw error;
      return;
    }
    if (!view) {
      protocol.sendTokenCount(res, body.size);
      record(200);
      return;
    }
    trace.model = view.model;
    const signal = abortOnClose(res);
    const reply = (spec: ReplySpec, chunkDelayMs = 0): Promise<void> =>
      protocol.sendReply(res, spec, { stream: view.stream, chunkDelayMs, signal });

    if (!view.mainLoop) {
      trace.kind = 'side-call';
      await reply(sideCallSpec(view.model, view.sideCallText ?? SIDE_CALL_TEXT));
      record(200);
      return;
    }

    const { steps, caseIndex } = stepsForPrompt(scenario, view.promptText);
    if (caseIndex !== undefined) trace.case = caseIndex;
    const step = view.step;
    trace.step = step;
    const scenarioStep = steps[step];
    if (!scenarioStep) {
      await reply(pastEndSpec(scenario, step, view.model));
      record(200);
      return;
    }
    const attempt = this.nextAttempt(
      `${scenario.name}\u0000${route.runKey}\u0000${caseIndex ?? ''}\u0000${step}`,
    );
    trace.attempt = attempt;
    const scriptedError = errorForAttempt(scenarioStep.errors, attempt);
    if (scriptedError) {
      const { status, type, retryAfterSeconds } = scriptedError;
      const message =
        scriptedError.message ?? `scripted ${status} ${type ?? API_ERROR_TYPES[status] ?? 'error'}`;
      protocol.sendError(res, { status, message, type, retryAfterSeconds });
      record(status);
      return;
    }
    let blocks: ReplyBlock[];
    try {
      blocks = renderBlocks(scenarioStep, caseIndex === undefined ? `${step}` : `c${caseIndex}_${step}`, {
        cwd: view.cwd,
        runKey: route.runKey,
        scenario: scenario.name,
        step: String(step),
        sessionId: view.sessionId,
        'history.lastAssistantText': view.lastAssistantText,
        'history.lastToolResultText': view.lastToolResultText,
      });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      fail(400, `scenario "${scenario.name}" step ${step}: ${error.message}`);
      return;
    }
    if (scenarioStep.delayMs > 0 && !(await pause(scenarioStep.delayMs, signal))) {
      record(499, 'client closed the connection during the delay');
      return;
    }
    const spec: ReplySpec = {
      model: view.model,
      blocks,
      stopReason:
        scenarioStep.stopReason ??
        (blocks.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      usage: stepUsage(scenario, scenarioStep),
      chunkSize: scenarioStep.chunkSize,
    };
    await reply(spec, scenarioStep.chunkDelayMs);
    record(200);
  }

  private async controlRateLimits(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET') {
      sendJson(res, 200, this.rateLimits.snapshot());
      return;
    }
    if (req.method !== 'POST') {
      sendJson(
        res,
        405,
        { error: { message: `use GET or POST on ${RATE_LIMITS_PATH}` } },
        { allow: 'GET, POST' },
      );
      return;
    }
    const body = await readJsonBody(req);
    if (!body.ok) {
      sendJson(res, 400, { error: { message: body.error } });
      return;
    }
    const parsed = RateLimitRequestSchema.safeParse(body.value);
    if (!parsed.success) {
      const message = `invalid rate limit (expected {"key": string, "forMs": int >= 0, "status"?: 429 | 529}): ${z.prettifyError(parsed.error)}`;
      sendJson(res, 400, { error: { message } });
      return;
    }
    sendJson(res, 200, { key: parsed.data.key, limit: this.rateLimits.set(parsed.data) });
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

export function stepUsage(
  scenario: Pick<Scenario, 'usage'>,
  step: Pick<ScenarioStep, 'usage'>,
): ScriptedUsage {
  return step.usage ?? scenario.usage ?? DEFAULT_USAGE;
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

// A tool call's id names its step (and its case: a subagent's calls, which take a case of their
// own, must not reuse the ids of the calls that started them).
function renderBlocks(step: ScenarioStep, stepId: string, values: TemplateValues): ReplyBlock[] {
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
          id: `toolu_scripted_${stepId}_${index}`,
          name: block.name,
          input: renderTemplate(block.input, values),
        };
    }
  });
}

function sideCallSpec(model: string, text: string): ReplySpec {
  return {
    model,
    blocks: [{ type: 'text', text }],
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
