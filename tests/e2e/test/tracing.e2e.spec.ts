import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { Patterns, type TaskCreatedMessage } from '@hangar/contracts';
import { PrefixedClientRedis, redisOptionsFromUrl } from '@hangar/redis';
import { redisUrl, ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask, readUntil, request, runTask, type SpanRow } from './support';

interface ExportedSpans {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: { name: string; traceId: string }[] }[];
  }[];
}

// Stands in for Jaeger or an OpenTelemetry Collector (neither runs on this machine): it only
// records what the services export over OTLP/HTTP (JSON), as a collector would receive it.
async function startOtlpReceiver() {
  const batches: ExportedSpans[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces')
        batches.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportedSpans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      waiters.splice(0).forEach((wake) => wake());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    batches,
    next: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('tracing', () => {
  let stack: ServiceStack;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = await ServiceStack.create('tracing', {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'debug',
    });
    await stack.start(['gateway']);
  });

  afterAll(async () => {
    await stack?.dispose();
    await receiver?.close();
  });

  it('should export the spans of a request over OTLP, named after the service, and log with their trace id', async () => {
    const response = await request(stack, 'GET', '/api/v1/tasks/no-such-task');
    expect(response.status).toBe(404);

    // The gateway logged the 404 (at debug) with the trace id of the request's span…
    const line = await stack.processes
      .get('gateway')!
      .waitForLine((entry) => entry.includes('/api/v1/tasks/no-such-task') && entry.includes('"level":20'));
    const traceId = (JSON.parse(line) as { traceId?: string }).traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect((response.body as { traceId?: string }).traceId).toBe(traceId);

    // …and that span reached the collector, under the service's name.
    const exported = () =>
      receiver.batches
        .flatMap((batch) => batch.resourceSpans)
        .filter((resource) =>
          resource.resource.attributes.some(
            (a) => a.key === 'service.name' && a.value.stringValue === 'gateway',
          ),
        )
        .flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans))
        .find((span) => span.traceId === traceId);
    while (!exported()) await receiver.next();
    expect(exported()?.name).toMatch(/^GET/);
  });
});

// One trace per request (docs/observability.md#one-trace-per-request): every service exports its
// spans to the stack's metrics service (OTEL_EXPORTER_OTLP_ENDPOINT), as the CLI does through its
// runner's relay (RUNNER_METRICS_URL); what the metrics service stored is what is checked.
describe('one trace per request', () => {
  let stack: ServiceStack;
  let db: Client;

  beforeAll(async () => {
    stack = await ServiceStack.create('e2e-trace-request');
    // The metrics service first, untraced itself (it would trace its own OTLP requests).
    await stack.start(['scripted-model', 'metrics']);
    const metricsUrl = `http://127.0.0.1:${stack.ports.get('metrics')}`;
    await stack.start(['gateway', 'websocket-pool', 'orchestrator', 'agent-runner'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: metricsUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      RUNNER_METRICS_URL: metricsUrl,
    });
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.dispose();
  });

  // Spans arrive as each process exports them (the CLI's as it exits, the services' in batches):
  // read until `complete` holds of what is stored.
  const spansUntil = (traceId: string, complete: (spans: SpanRow[]) => boolean) =>
    readUntil(
      async () =>
        (await db.query<SpanRow>('SELECT * FROM telemetry_spans WHERE trace_id = $1', [traceId])).rows,
      complete,
      30_000,
      (spans) => `trace ${traceId}, so far ${JSON.stringify(spans.map((span) => [span.service, span.name]))}`,
    );

  // Every span's parent is in the trace but for one: the request's.
  const rootsOf = (spans: SpanRow[]) => {
    const ids = new Set(spans.map((span) => span.span_id));
    return spans.filter((span) => !span.parent_span_id || !ids.has(span.parent_span_id));
  };

  it('should link the gateway’s request, the orchestrator’s, the runner’s and the CLI’s spans in one trace, named by the task', async () => {
    const task = await runTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });
    expect(task.status).toBe('COMPLETED');
    expect(task.traceId).toMatch(/^[0-9a-f]{32}$/);
    const traceId = task.traceId!;

    const spans = await spansUntil(
      traceId,
      (found) =>
        ['gateway', 'orchestrator', 'agent-runner', 'claude-code'].every((service) =>
          found.some((span) => span.service === service),
        ) &&
        found.some((span) => span.name === 'claude_code.tool') &&
        found.some((span) => span.name === 'task.ended') &&
        rootsOf(found).length === 1,
    );

    // The root: the gateway's span of POST /api/v1/tasks.
    const [root] = rootsOf(spans);
    expect(root).toMatchObject({ service: 'gateway', parent_span_id: null });
    expect(root?.name).toMatch(/^POST/);
    const byName = (name: string) => spans.find((span) => span.name === name);
    // gateway → orchestrator (tasks.created) → runner (task.run, the job) → the CLI's spans.
    const created = byName('tasks.created');
    const run = byName('task.run');
    expect(created).toMatchObject({ service: 'orchestrator', parent_span_id: root?.span_id });
    expect(created?.attributes).toMatchObject({ 'hangar.task_id': task.id });
    expect(run).toMatchObject({ service: 'agent-runner', parent_span_id: created?.span_id });
    expect(run?.attributes).toMatchObject({ 'hangar.task_id': task.id, 'hangar.attempt': 1 });
    const cli = spans.filter((span) => span.service === 'claude-code');
    expect(cli.map((span) => span.name)).toEqual(
      expect.arrayContaining(['claude_code.interaction', 'claude_code.tool']),
    );
    // The CLI's outermost spans hang under the runner's (its TRACEPARENT).
    expect(cli.some((span) => span.parent_span_id === run?.span_id)).toBe(true);
    // The task's end, told by the runner, handled by the orchestrator in the same trace.
    expect(byName('task.ended')).toMatchObject({ service: 'orchestrator', parent_span_id: run?.span_id });
    for (const span of spans) expect(span.status_code).not.toBe(2);

    // The task's view names the trace, as the task page links it.
    expect((await getTask(stack, task.id)).traceId).toBe(traceId);
  });

  it('should handle a tasks.created message whose trace is malformed in a new trace, not fail it', async () => {
    const task = await createTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });
    const follower = follow(stack, task.id);
    // A second tells of the same task (handled twice changes nothing), in a trace that is none.
    const client = new PrefixedClientRedis({
      ...redisOptionsFromUrl(redisUrl()),
      channelPrefix: `${stack.redisPrefix}:`,
    });
    const message = {
      taskId: task.id,
      trace: { traceparent: '00-not-a-trace-at-all-01' },
    } as unknown as TaskCreatedMessage;
    await new Promise<void>((resolve, reject) =>
      client.emit(Patterns.taskCreated, message).subscribe({ complete: resolve, error: reject }),
    );
    await client.close();
    await follower.finished;
    follower.close();
    expect((await getTask(stack, task.id)).status).toBe('COMPLETED');

    // Two spans handled it: the gateway's message, in the request's trace, and this one, the
    // root of a trace of its own.
    const handled = await readUntil(
      async () =>
        (
          await db.query<SpanRow>(
            `SELECT * FROM telemetry_spans WHERE service = 'orchestrator' AND name = 'tasks.created'
               AND attributes->>'hangar.task_id' = $1`,
            [task.id],
          )
        ).rows,
      (spans) => spans.length >= 2,
      30_000,
      () => `tasks.created of ${task.id} traced twice`,
    );
    const fresh = handled.find((span) => span.trace_id !== task.traceId);
    expect(fresh).toMatchObject({ parent_span_id: null, status_code: 0 });
    expect(fresh?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(handled.find((span) => span.trace_id === task.traceId)?.parent_span_id).not.toBeNull();
  });
});
