import { Controller, Inject, Logger, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, type Problem } from '@hangar/contracts';
import { TaskTelemetry } from '@hangar/db';
import { METRICS_CONFIG, type MetricsConfig } from '../../config';
import { decodeOtlpProtobuf, OtlpError, readOtlp, type OtlpSignal } from './otlp';
import { TelemetryMetrics } from './telemetry.metrics';

const SIGNALS: readonly OtlpSignal[] = ['traces', 'logs', 'metrics'];
// The task an attempt's telemetry belongs to, as the runner's relay names it (it checked the
// attempt's credential): the only attribution trusted, whatever the resource attributes say.
export const TASK_HEADER = 'x-hangar-task-id';
const TASK_ID = /^[A-Za-z0-9_-]{1,128}$/;
const FORWARD_TIMEOUT_MS = 5_000;

// OTLP over HTTP (POST /v1/traces, /v1/logs, /v1/metrics; protobuf or JSON): the agents' own
// telemetry, relayed by their runner, stored against their task; traces forwarded to Jaeger (or
// any OTLP endpoint) when METRICS_OTLP_FORWARD_URL says where. A body that is not OTLP is 400
// with why, a content type other than the two is 415: nothing is stored of either.
@Controller('v1')
export class OtlpController {
  private readonly logger = new Logger(OtlpController.name);

  constructor(
    private readonly telemetry: TaskTelemetry,
    private readonly metrics: TelemetryMetrics,
    @Inject(METRICS_CONFIG) private readonly config: MetricsConfig,
  ) {}

  @Post(':signal')
  async receive(@Param('signal') signal: string, @Req() request: Request, @Res() response: Response) {
    if (!SIGNALS.includes(signal as OtlpSignal))
      return problem(
        response,
        404,
        `no OTLP signal "${signal}": POST to /v1/traces, /v1/logs or /v1/metrics`,
      );
    const kind = signal as OtlpSignal;
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const encoding =
      type === 'application/x-protobuf' ? 'protobuf' : type === 'application/json' ? 'json' : null;
    if (!encoding)
      return problem(
        response,
        415,
        `content-type must be application/x-protobuf or application/json, not "${type ?? ''}"`,
      );
    const taskHeader = request.headers[TASK_HEADER];
    const taskId = typeof taskHeader === 'string' && taskHeader !== '' ? taskHeader : null;
    if (taskId !== null && !TASK_ID.test(taskId))
      return problem(response, 400, `${TASK_HEADER} is not a task id`, TASK_HEADER);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let batch;
    try {
      batch = readOtlp(kind, encoding === 'protobuf' ? decodeOtlpProtobuf(kind, body) : parseJson(body));
    } catch (error) {
      if (!(error instanceof OtlpError)) throw error;
      this.metrics.received.inc({ signal: kind, encoding, outcome: 'refused' });
      return problem(response, 400, error.message);
    }
    await this.telemetry.store(taskId, batch);
    this.metrics.received.inc({ signal: kind, encoding, outcome: 'stored' });
    if (kind === 'traces' && this.config.METRICS_OTLP_FORWARD_URL) void this.forward(body, type ?? '');
    // An empty Export…ServiceResponse: full success.
    if (encoding === 'protobuf') response.status(200).type('application/x-protobuf').send(Buffer.alloc(0));
    else response.status(200).json({});
  }

  // Traces as received, to the OTLP endpoint configured (Jaeger's): best effort, never holding
  // the sender.
  private async forward(body: Buffer, type: string): Promise<void> {
    const url = new URL('/v1/traces', this.config.METRICS_OTLP_FORWARD_URL).toString();
    try {
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
      this.metrics.forwarded.inc({ outcome: answer.ok ? 'sent' : 'refused' });
      if (!answer.ok) this.logger.warn(`${url} answered ${answer.status} to forwarded traces`);
    } catch (error) {
      this.metrics.forwarded.inc({ outcome: 'failed' });
      this.logger.warn(
        `traces not forwarded to ${url}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new OtlpError('not JSON');
  }
}

function problem(response: Response, status: number, detail: string, field = '(body)'): void {
  const body: Problem = {
    type: 'about:blank',
    title: status === 415 ? 'Unsupported Media Type' : status === 404 ? 'Not Found' : 'Bad Request',
    status,
    detail,
    code: status === 400 ? 'VALIDATION_FAILED' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'NOT_FOUND',
    ...(status === 400 ? { errors: [{ field, message: detail }] } : {}),
  };
  response.status(status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
