import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { activeTraceContext, inSpan, remoteContext, type TraceContext } from './trace-context';

const PARENT: TraceContext = {
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'vendor=abc',
};
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

interface ExportedSpan {
  name: string;
  spanContext(): { traceId: string; spanId: string };
  parentSpanContext?: { spanId: string };
  attributes: Record<string, unknown>;
  resource: { attributes: Record<string, unknown> };
}

// The SDK as initTracing starts it, exporting to a collector that keeps what it is sent (the
// OTLP/HTTP exporter itself cannot run under Jest: it loads its agent with a dynamic import,
// which Jest's module sandbox refuses without --experimental-vm-modules).
function startTracing() {
  const spans: ExportedSpan[] = [];
  const exporter = {
    export(batch: ExportedSpan[], done: (result: { code: number }) => void) {
      spans.push(...batch);
      done({ code: 0 });
    },
    shutdown: async () => undefined,
  } as unknown as NodeSDKConfiguration['traceExporter'];
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': 'trace-context-spec' }),
    traceExporter: exporter,
  });
  sdk.start();
  return { spans, shutdown: () => sdk.shutdown() };
}

describe('trace context, tracing off', () => {
  it('should give the work its parent when there is no tracing, so what it starts joins the trace', async () => {
    const given = await inSpan('work', PARENT, async (own) => own);
    expect(given).toEqual(PARENT);
  });

  it('should give the work nothing when there is no parent or it is malformed, and still run it', async () => {
    expect(await inSpan('work', undefined, async (own) => own ?? 'none')).toBe('none');
    expect(
      await inSpan('work', { traceparent: '00-zz-00f067aa0ba902b7-01' }, async (own) => own ?? 'none'),
    ).toBe('none');
  });

  it('should have no active trace context outside any span', () => {
    expect(activeTraceContext()).toBeUndefined();
  });

  it('should pass the work’s error on', async () => {
    await expect(
      inSpan('work', PARENT, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });

  it('should read a remote parent back as the same trace context', () => {
    expect(activeTraceContext(remoteContext(PARENT))).toEqual(PARENT);
    expect(
      activeTraceContext(
        remoteContext({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }),
      ),
    ).toBeUndefined();
  });
});

describe('trace context, tracing on', () => {
  let tracing: ReturnType<typeof startTracing>;

  beforeAll(() => {
    tracing = startTracing();
  });

  it('should run the work in a child span of the parent it was sent, active for what it does, and export it', async () => {
    const seen = await inSpan(
      'tasks.created',
      PARENT,
      async (own) => ({
        own,
        active: activeTraceContext(),
        nested: await inSpan('inner', activeTraceContext(), async (inner) => inner),
      }),
      { attributes: { 'hangar.task_id': 't1' } },
    );
    const [, traceId, spanId] = TRACEPARENT.exec(seen.own?.traceparent ?? '') ?? [];
    expect(traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(spanId).not.toBe('00f067aa0ba902b7');
    expect(seen.own?.tracestate).toBe('vendor=abc');
    expect(seen.active).toEqual(seen.own);
    const [, nestedTrace, nestedSpan] = TRACEPARENT.exec(seen.nested?.traceparent ?? '') ?? [];
    expect(nestedTrace).toBe(traceId);

    const malformed = await inSpan('orphan', { traceparent: 'not-a-traceparent' }, async (own) => own);
    const [, newTrace] = TRACEPARENT.exec(malformed?.traceparent ?? '') ?? [];
    expect(newTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(newTrace).not.toBe(traceId);

    // Exported at shutdown (the batch is flushed): each span under the parent it was given.
    await tracing.shutdown();
    const byName = new Map(
      tracing.spans.map((span) => [
        span.name,
        { ...span.spanContext(), parentSpanId: span.parentSpanContext?.spanId, attributes: span.attributes },
      ]),
    );
    expect(tracing.spans[0]?.resource.attributes['service.name']).toBe('trace-context-spec');
    expect(byName.get('tasks.created')).toMatchObject({
      traceId,
      spanId,
      parentSpanId: '00f067aa0ba902b7',
      attributes: { 'hangar.task_id': 't1' },
    });
    expect(byName.get('inner')).toMatchObject({ traceId, spanId: nestedSpan, parentSpanId: spanId });
    expect(byName.get('orphan')).toMatchObject({ traceId: newTrace, parentSpanId: undefined });
  });
});
