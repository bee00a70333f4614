import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { AttemptCredentials, REFUSAL_TEXT } from './attempt-credentials.service';
import { OTLP_PATH } from './endpoint-urls';
import { readRequest, sendJson } from './model-gateway';

const SIGNALS = new Set(['traces', 'logs', 'metrics']);
// What one export may carry; an exporter batches well below it.
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const FORWARD_TIMEOUT_MS = 10_000;

// The agents' own OpenTelemetry (docs/observability.md#the-agents-telemetry), relayed from the
// sandbox to the metrics service (RUNNER_METRICS_URL): OTLP/HTTP at /otlp/v1/{traces,logs,metrics},
// with the attempt's credential (the exporter's Authorization header). The metrics service is
// told which task it is from (x-hangar-task-id) by the relay, from the credential — never by the
// agent, which can only send telemetry of its own task.
@Injectable()
export class TelemetryRelay {
  private readonly logger = new Logger(TelemetryRelay.name);

  constructor(
    private readonly credentials: AttemptCredentials,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  get enabled(): boolean {
    return Boolean(this.config.RUNNER_METRICS_URL);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const signal = url.pathname.slice(`${OTLP_PATH}/v1/`.length);
    if (req.method !== 'POST' || !SIGNALS.has(signal) || !url.pathname.startsWith(`${OTLP_PATH}/v1/`))
      return sendJson(res, 404, {
        error: { message: `no OTLP endpoint at ${req.method ?? ''} ${url.pathname}` },
      });
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    // Also once its attempt has ended, until the credential is revoked as the agent exits: a task
    // is told finished at its agent's result, and the CLI sends its last telemetry as it exits.
    const access = token ? await this.credentials.check(token, { ended: true }) : undefined;
    if (!access?.ok) {
      req.resume();
      return sendJson(res, 401, {
        error: {
          message: `hangar telemetry relay: ${access ? REFUSAL_TEXT[access.refusal] : 'no credential was sent'}`,
        },
      });
    }
    const metricsUrl = this.config.RUNNER_METRICS_URL;
    if (!metricsUrl) {
      req.resume();
      return sendJson(res, 404, {
        error: { message: 'this runner relays no telemetry (RUNNER_METRICS_URL is unset)' },
      });
    }
    const body = await readRequest(req, MAX_BODY_BYTES);
    if (!body)
      return sendJson(res, 413, { error: { message: `an OTLP export may carry ${MAX_BODY_BYTES} bytes` } });
    let answer: Response;
    try {
      answer = await fetch(new URL(`/v1/${signal}`, metricsUrl), {
        method: 'POST',
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/x-protobuf',
          'x-hangar-task-id': access.grant.taskId,
        },
        body,
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
    } catch (error) {
      this.logger.warn(
        `task ${access.grant.taskId}: its telemetry could not reach ${metricsUrl} (${error instanceof Error ? error.message : String(error)})`,
      );
      // The exporter may try again later (OTLP: 503 is retryable).
      return sendJson(res, 503, { error: { message: 'the metrics service did not answer' } });
    }
    const answered = Buffer.from(await answer.arrayBuffer());
    res.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
      'content-length': answered.length,
    });
    res.end(answered);
  }
}
