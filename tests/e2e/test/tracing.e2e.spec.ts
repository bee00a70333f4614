import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ServiceStack } from '@hangar/testing';
import { request } from './support';

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
