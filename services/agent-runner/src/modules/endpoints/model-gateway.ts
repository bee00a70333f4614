import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  AGENT_PROVIDERS,
  AUTO_SCENARIO,
  callCostUsd,
  MODEL_PRICES,
  MODEL_PRICES_VERSION,
  ModelUsageMeter,
  readCallRequest,
  restUntil,
  totalTokens,
  scriptedModelBaseUrl,
  type AgentProvider,
  type ModelPrice,
} from '@hangar/agents';
import { ProfileRepository, type AttemptGrant } from '@hangar/db';
import { NotificationHook } from '@hangar/platform';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { ModelCallLedger } from '../attempts/model-call-ledger';
import { AttemptCredentials, REFUSAL_TEXT } from './attempt-credentials.service';
import { MODEL_BASE_PATHS } from './endpoint-urls';
import { BudgetGuard, type AdmittedBudgets, type SoftLimitWarning } from './budget-guard';
import { ModelCallMetrics } from './model-call.metrics';
import { ProviderCredentials, type PoolCredential } from './provider-credentials';

interface ProviderApi {
  defaultBaseUrl: string;
  keyHeaders(key: string): Record<string, string>;
  // An error in the provider's own shape, so the CLI reports it as the provider would.
  error(status: number, message: string): unknown;
}

const PROVIDER_APIS: Readonly<Record<AgentProvider, ProviderApi>> = {
  claude: {
    defaultBaseUrl: 'https://api.anthropic.com',
    keyHeaders: (key) => ({ 'x-api-key': key }),
    error: (status, message) => ({
      type: 'error',
      error: { type: status === 401 ? 'authentication_error' : 'permission_error', message },
    }),
  },
  codex: {
    defaultBaseUrl: 'https://api.openai.com/v1',
    keyHeaders: (key) => ({ authorization: `Bearer ${key}` }),
    error: (status, message) => ({
      error: {
        message,
        type: 'invalid_request_error',
        code: status === 401 ? 'invalid_api_key' : 'forbidden',
      },
    }),
  },
  gemini: {
    defaultBaseUrl: 'https://generativelanguage.googleapis.com',
    keyHeaders: (key) => ({ 'x-goog-api-key': key }),
    error: (status, message) => ({
      error: { code: status, message, status: status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED' },
    }),
  },
};

// Headers that describe one hop, and every way a CLI sends its key: never passed on.
const DROPPED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'x-api-key',
  'authorization',
  'x-goog-api-key',
]);

// The largest request a billed call may send (a long conversation with images is a few MB).
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

// A billed call being forwarded: whose, through which credential of its pool (and the lease on
// it), and the budgets it was admitted by.
interface Meter {
  provider: AgentProvider;
  grant: AttemptGrant;
  credential: string;
  lease: string;
  budgets: AdmittedBudgets;
}

// Where a call goes: its path and query upstream, the base URL of a credential, and the headers
// it is sent with (the credential's key added).
interface Outbound {
  provider: AgentProvider;
  api: ProviderApi;
  suffix: string;
  base: (credential: PoolCredential) => string;
  headers: Record<string, string | string[]>;
}

// The calls a model is billed for (a message, a response, generated content), which the gateway
// meters; token counts and model lists pass unmetered.
const BILLED_CALLS: Readonly<Record<AgentProvider, RegExp>> = {
  claude: /\/messages$/,
  codex: /\/responses$/,
  gemini: /:(stream)?generateContent$/i,
};

// The model gateway: an agent's CLI calls its provider through the runner with its attempt's
// credential; the runner checks it and forwards the call with the installation's real key (or to
// the scripted model), so no provider key ever enters a sandbox or a task pod. Streams pass
// through unbuffered and a call the CLI abandons is abandoned upstream. Every billed call is
// metered as its answer passes (ModelUsageMeter) and recorded once it ends, priced with the
// price table and MODEL_PRICES (docs/governance.md). Written on node:http rather than a proxy
// library: every request needs its own credential check, upstream, key and meter.
@Injectable()
export class ModelGateway implements OnApplicationBootstrap {
  private readonly logger = new Logger(ModelGateway.name);
  private readonly prices: Readonly<Record<string, ModelPrice>>;
  // Models called that the price table has no price for (each warned of once).
  private readonly unpriced = new Set<string>();

  constructor(
    private readonly credentials: AttemptCredentials,
    private readonly calls: ModelCallLedger,
    private readonly metrics: ModelCallMetrics,
    private readonly budgets: BudgetGuard,
    private readonly hook: NotificationHook,
    private readonly pool: ProviderCredentials,
    private readonly profiles: ProfileRepository,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {
    this.prices = { ...MODEL_PRICES, ...config.MODEL_PRICES };
  }

  // Models the profiles name that the price table has no price for: said once, at start (their
  // calls are recorded without a cost, never as free).
  async onApplicationBootstrap(): Promise<void> {
    const unpriced = [...(await this.profiles.modelsInUse())].filter(([model]) => !this.prices[model]);
    for (const [model] of unpriced) this.unpriced.add(model);
    if (unpriced.length > 0)
      this.logger.warn(
        `no price in the price table (${MODEL_PRICES_VERSION}) or MODEL_PRICES for models profiles use: ` +
          unpriced.map(([model, profiles]) => `"${model}" (${profiles.join(', ')})`).join('; ') +
          '. Their calls are recorded without a cost; add them to MODEL_PRICES (docs/governance.md)',
      );
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const [, , providerName = '', ...rest] = url.pathname.split('/');
    if (!(AGENT_PROVIDERS as readonly string[]).includes(providerName)) {
      return sendJson(res, 404, { error: { message: `no model API for "${providerName}"` } });
    }
    const provider = providerName as AgentProvider;
    const api = PROVIDER_APIS[provider];
    const token = credentialOf(req.headers, url);
    const access = token ? await this.credentials.check(token) : undefined;
    if (!access?.ok) {
      const why = access ? REFUSAL_TEXT[access.refusal] : 'no credential was sent';
      return sendJson(res, 401, api.error(401, `hangar model gateway: ${why}`));
    }
    const { grant } = access;
    if (grant.provider !== provider) {
      return sendJson(
        res,
        403,
        api.error(403, `hangar model gateway: this attempt may call ${grant.provider}, not ${provider}`),
      );
    }
    let path = `/${rest.join('/')}`;
    const basePath = MODEL_BASE_PATHS[provider];
    if (basePath && (path === basePath || path.startsWith(`${basePath}/`)))
      path = path.slice(basePath.length);
    url.searchParams.delete('key');
    const scripted = this.config.SCRIPTED_MODEL_URL
      ? // Without a scenario the scripted model looks for a `[scenario: …]` marker in the prompt.
        scriptedModelBaseUrl(
          this.config.SCRIPTED_MODEL_URL,
          grant.task.scenario ?? AUTO_SCENARIO,
          `${grant.taskId}-${grant.attempt}`,
          provider,
        )
      : undefined;
    const outbound: Outbound = {
      provider,
      api,
      suffix: `${path}${url.search}`,
      base: (credential) => scripted ?? credential.baseUrl ?? api.defaultBaseUrl,
      headers: forwardedHeaders(req.headers),
    };
    const metered = BILLED_CALLS[provider].test(path) && req.method === 'POST';
    let budgets: AdmittedBudgets = { budgets: [], counters: [], reservations: [] };
    let body: Buffer | undefined;
    if (metered) {
      // A budget spent refuses the call (and the attempt's later ones) in the provider's shape,
      // so the CLI stops; the attempt ends FAILED with the reason (ModelCallLedger).
      const refused = this.calls.refusal(grant.taskId, grant.attempt);
      if (refused) return sendJson(res, 403, api.error(403, `hangar: ${refused}`));
      // The request is read whole (it is sent whole, upstream too): what it asks for bounds what
      // it may cost, reserved against its budgets while it is in flight.
      body = await readRequest(req, MAX_REQUEST_BYTES);
      if (!body)
        return sendJson(
          res,
          413,
          api.error(413, `hangar model gateway: a request is at most ${MAX_REQUEST_BYTES} bytes`),
        );
      const read = body;
      const decision = await this.budgets.admit(grant, () => {
        const request = readCallRequest(provider, path, read);
        return { request, price: request.model ? this.prices[request.model] : undefined };
      });
      if (!decision.admitted && decision.why === 'spent') {
        const reason = `budget-exceeded: ${decision.budget.label}`;
        this.calls.refuse(grant.taskId, grant.attempt, reason);
        this.logger.log(`task ${grant.taskId}: a model call refused: ${reason}`);
        return sendJson(res, 403, api.error(403, `hangar: ${reason}`));
      }
      if (!decision.admitted) {
        res.setHeader('retry-after', '5');
        return sendJson(
          res,
          429,
          api.error(429, `hangar: calls in flight hold what is left of ${decision.budget.label}; try again`),
        );
      }
      budgets = decision;
      // A credential of the provider's pool: the least busy that is not rested (docs/governance.md).
      const leased = await this.pool.lease(provider);
      if (!leased.ok) {
        await this.budgets.charge(budgets, 0, null);
        return this.rateLimited(res, api, provider, leased.until);
      }
      return this.forward(
        req,
        res,
        outbound,
        leased.credential,
        {
          provider,
          grant,
          credential: leased.credential.name,
          lease: leased.lease,
          budgets,
        },
        body,
        new Set([leased.credential.name]),
      );
    }
    this.forward(req, res, outbound, this.pool.first(provider));
  }

  // No credential of the pool may take the call now: every one rests (until the pool is back),
  // or all are at their caps. Answered as the provider answers a rate limit; the CLI retries.
  private rateLimited(
    res: ServerResponse,
    api: ProviderApi,
    provider: AgentProvider,
    until: number | null,
  ): void {
    const seconds = until === null ? 5 : Math.max(1, Math.ceil((until - Date.now()) / 1000));
    res.setHeader('retry-after', String(seconds));
    sendJson(
      res,
      429,
      api.error(
        429,
        until === null
          ? `hangar: every ${provider} credential is at its limits; try again`
          : `hangar: every ${provider} credential is rate limited until ${new Date(until).toISOString()}`,
      ),
    );
  }

  // Budgets the call brought to their soft limit: an event on the task, and the installation's
  // notification hook told.
  private async warn(grant: AttemptGrant, warnings: SoftLimitWarning[]): Promise<void> {
    for (const { budget, spentUsd, spentTokens } of warnings) {
      this.logger.log(
        `task ${grant.taskId}: ${budget.label} reached its soft limit (${budget.softPercent}%)`,
      );
      this.hook.send({
        kind: 'budget.warning',
        at: new Date().toISOString(),
        budget: {
          id: budget.id,
          label: budget.label,
          scope: budget.scope,
          project: budget.projectSlug,
          period: budget.period,
          softPercent: budget.softPercent,
          limitUsd: budget.limitUsd,
          limitTokens: budget.limitTokens,
        },
        spentUsd,
        spentTokens,
        task: { id: grant.taskId, project: grant.task.project },
      });
      await this.calls.note(grant.task, {
        type: 'budget.warning',
        data: {
          budgetId: budget.id,
          label: budget.label,
          softPercent: budget.softPercent,
          spentUsd,
          limitUsd: budget.limitUsd,
          spentTokens,
          limitTokens: budget.limitTokens,
        },
      });
    }
  }

  // One billed call ended (answered, failed, or abandoned by the CLI): recorded with what its
  // answer said. Never on the call's path, and never failing it.
  private record(meter: Meter, status: number, usage: ModelUsageMeter | undefined, startedAt: Date): void {
    const { model, tokens } = usage?.result() ?? { model: null, tokens: null };
    const price = model ? this.prices[model] : undefined;
    if (model && tokens && !price && !this.unpriced.has(model)) {
      this.unpriced.add(model);
      this.logger.warn(
        `no price for model "${model}" in the price table (${MODEL_PRICES_VERSION}) or MODEL_PRICES: its calls are recorded without a cost`,
      );
    }
    const { grant } = meter;
    const costUsd = price && tokens ? callCostUsd(price, tokens) : null;
    this.pool
      .release(meter.provider, meter.credential, meter.lease, totalTokens(tokens))
      .catch((error: unknown) => this.logger.warn({ err: error }, "a credential's lease was not given back"));
    this.calls.track(
      grant.taskId,
      grant.attempt,
      this.budgets
        .charge(meter.budgets, costUsd, tokens)
        .then((warnings) => this.warn(grant, warnings))
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, "a model call's cost was not counted against its budgets"),
        ),
    );
    const finishedAt = new Date();
    this.metrics.called(
      {
        project: grant.task.project,
        profile: grant.task.profile,
        provider: meter.provider,
        model,
        credential: meter.credential,
        status,
      },
      tokens,
      costUsd,
      (finishedAt.getTime() - startedAt.getTime()) / 1000,
    );
    this.calls.record({
      taskId: grant.taskId,
      attempt: grant.attempt,
      projectId: grant.task.projectId,
      workflowRunId: grant.task.workflowRunId,
      provider: meter.provider,
      model,
      credential: meter.credential,
      status,
      tokens,
      costUsd,
      priceVersion: costUsd !== null ? MODEL_PRICES_VERSION : null,
      startedAt,
      finishedAt,
    });
  }

  // Sends the call upstream with `credential` and the answer back as it streams. A billed call
  // (`meter`, its request read whole) that the provider refuses for a rate limit rests the
  // credential until its reset and goes out again with another of the pool (`tried`: those it
  // went out with), before the CLI sees anything; with none left, the refusal is the CLI's.
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    outbound: Outbound,
    credential: PoolCredential,
    meter?: Meter,
    body?: Buffer,
    tried: Set<string> = new Set(),
  ): void {
    const { api, provider } = outbound;
    const target = new URL(`${outbound.base(credential).replace(/\/+$/, '')}${outbound.suffix}`);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const startedAt = new Date();
    let status = 0;
    let usage: ModelUsageMeter | undefined;
    let handedOver = false;
    const headers = { ...outbound.headers, ...api.keyHeaders(credential.key) };
    const call = send(target, { method: req.method, headers }, (answer) => {
      status = answer.statusCode ?? 502;
      const limited = meter && body && (status === 429 || status === 529 || status === 503);
      if (limited) {
        // A refusal is small: read it whole (Gemini says when to retry in its body).
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.once('end', () => {
          const refusal = Buffer.concat(chunks);
          void this.refused(
            req,
            res,
            outbound,
            credential,
            meter,
            body,
            tried,
            status,
            answer.headers,
            refusal,
          ).then((retried) => {
            handedOver = retried;
            if (retried) return;
            res.writeHead(status, forwardedHeaders(answer.headers));
            res.end(refusal);
          });
        });
        return;
      }
      // An answer that says a limit of the credential has nothing left rests it now.
      const until = meter ? restUntil(provider, status, answer.headers, undefined) : null;
      if (meter && until !== null) {
        this.metrics.rested(provider, credential.name, status);
        void this.pool.rest(provider, credential.name, until).catch(() => undefined);
      }
      res.writeHead(status, forwardedHeaders(answer.headers));
      if (meter) {
        const reading = new ModelUsageMeter(meter.provider, answer.headers['content-type']);
        usage = reading;
        answer.on('data', (chunk: Buffer) => reading.feed(chunk));
      }
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    // Recorded once the CLI has the whole answer, or went away (unless the call went out again).
    if (meter)
      res.once('close', () => {
        if (!handedOver) this.record(meter, status, usage, startedAt);
      });
    call.on('error', (error) => {
      this.logger.warn({ err: error, host: target.host }, 'the model API could not be reached');
      if (!res.headersSent)
        sendJson(
          res,
          502,
          api.error(502, `hangar model gateway: the model API could not be reached: ${error.message}`),
        );
      else res.destroy();
    });
    // The CLI went away (cancelled, killed): so does the call upstream.
    res.on('close', () => {
      if (!res.writableFinished) call.destroy();
    });
    if (body) call.end(body);
    else req.pipe(call);
  }

  // The provider refused a billed call for a rate limit (or being overloaded): the credential
  // rests as long as the answer says, and the call goes out with another credential of the pool
  // when one is free. Answers whether it did (the refusal is then not the CLI's).
  private async refused(
    req: IncomingMessage,
    res: ServerResponse,
    outbound: Outbound,
    credential: PoolCredential,
    meter: Meter,
    body: Buffer,
    tried: Set<string>,
    status: number,
    headers: IncomingHttpHeaders,
    refusal: Buffer,
  ): Promise<boolean> {
    const { provider } = outbound;
    const until = restUntil(provider, status, headers, refusal.toString('utf8'));
    if (until === null || res.destroyed) return false;
    this.metrics.rested(provider, credential.name, status);
    try {
      await this.pool.rest(provider, credential.name, until);
      const next = await this.pool.lease(provider, tried);
      if (!next.ok) return false;
      await this.pool.release(provider, credential.name, meter.lease, 0);
      this.logger.log(
        `task ${meter.grant.taskId}: a ${provider} call moves from credential "${credential.name}" (${status}) to "${next.credential.name}"`,
      );
      tried.add(next.credential.name);
      this.forward(
        req,
        res,
        outbound,
        next.credential,
        { ...meter, credential: next.credential.name, lease: next.lease },
        body,
        tried,
      );
      return true;
    } catch (error) {
      this.logger.warn({ err: error }, 'a rate-limited credential could not be rested');
      return false;
    }
  }
}

// A billed call's request, whole; undefined when it is larger than `limit` bytes (the rest is
// read and dropped, so the refusal can be answered on the connection).
export function readRequest(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    req.once('error', reject);
  });
}

function credentialOf(headers: IncomingHttpHeaders, url: URL): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
  const apiKey = headers['x-api-key'] ?? headers['x-goog-api-key'];
  return (
    (typeof apiKey === 'string' ? apiKey : undefined) ?? bearer ?? url.searchParams.get('key') ?? undefined
  );
}

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED_HEADERS.has(name)) continue;
    forwarded[name] = value;
  }
  return forwarded;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
