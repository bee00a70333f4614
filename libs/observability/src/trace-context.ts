import {
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';

// The W3C trace context a message, job or process is sent with: @hangar/contracts'
// TraceContextSchema (which checks it where it crosses a boundary) has this shape.
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

// traceparent is formatted and read here, with @opentelemetry/api alone: @opentelemetry/core's
// W3CTraceContextPropagator is not a dependency of this lib (only of the SDK, loaded only when
// tracing is on), and the propagator the SDK registers follows OTEL_PROPAGATORS and does nothing
// while tracing is off — whereas an envelope's context is W3C's, whatever HTTP propagates.
const TRACER = 'hangar';

function format(span: SpanContext): TraceContext | undefined {
  if (!isSpanContextValid(span)) return undefined;
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  const tracestate = span.traceState?.serialize();
  return {
    traceparent: `00-${span.traceId}-${span.spanId}-${flags}`,
    ...(tracestate ? { tracestate } : {}),
  };
}

// The active span's context (an HTTP request's, a handler's span…), to send on; undefined
// outside any span, and always while tracing is off.
export function activeTraceContext(active: Context = context.active()): TraceContext | undefined {
  const span = trace.getSpanContext(active);
  return span ? format(span) : undefined;
}

// The envelope field of a message or job sent now (`{trace}` of libs/contracts' withTrace):
// empty outside any span.
export function activeTraceField(): { trace?: TraceContext } {
  const trace = activeTraceContext();
  return trace ? { trace } : {};
}

// The context whose parent is the span `parent` names, sent from another process; the root
// context (a new trace) when there is none or it is not a valid one.
export function remoteContext(parent: TraceContext | null | undefined): Context {
  if (!parent) return ROOT_CONTEXT;
  const [version, traceId, spanId, flags] = parent.traceparent.split('-');
  const span: SpanContext = {
    traceId: traceId ?? '',
    spanId: spanId ?? '',
    traceFlags: Number.parseInt(flags ?? '', 16),
    isRemote: true,
    ...(parent.tracestate ? { traceState: createTraceState(parent.tracestate) } : {}),
  };
  if (version !== '00' || !/^[0-9a-f]{2}$/.test(flags ?? '') || !isSpanContextValid(span))
    return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, span);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
}

// Runs `work` inside a new span, a child of `parent` (a new trace without one), active for
// everything `work` does; `work` is given the span's own context to send on. The span ends
// when `work` settles, with its error recorded. With tracing off the span records nothing and
// `work` is given `parent` itself (a valid one), so whatever it starts still joins the trace.
export async function inSpan<T>(
  name: string,
  parent: TraceContext | null | undefined,
  work: (own: TraceContext | undefined) => Promise<T>,
  options: SpanOptions = {},
): Promise<T> {
  const parentContext = remoteContext(parent);
  const span = trace.getTracer(TRACER).startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    parentContext,
  );
  try {
    return await context.with(trace.setSpan(parentContext, span), () => work(format(span.spanContext())));
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}

export { SpanKind };
