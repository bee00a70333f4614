import protobuf from 'protobufjs';
import { z } from 'zod';
import type { TelemetryEvent, TelemetryPoint, TelemetrySpan } from '@hangar/db';
import { OTLP_PROTO } from './otlp-proto';

// OTLP over HTTP (opentelemetry.io/docs/specs/otlp/#otlphttp), as protobuf or JSON, read into
// one shape: spans, log records (events) and metric points, each with its resource's attributes.
// Both encodings go through the same schema: protobuf is decoded to OTLP/JSON's own form first
// (ids in hex, 64-bit integers as strings), so what either says is checked the same way.

export type OtlpSignal = 'traces' | 'logs' | 'metrics';
type Attributes = Record<string, unknown>;

// What a request carried, in the shapes TaskTelemetry stores.
export interface OtlpBatch {
  spans: TelemetrySpan[];
  logs: TelemetryEvent[];
  metrics: TelemetryPoint[];
}

// A body that is not what its content type says, with where.
export class OtlpError extends Error {}

// ---- OTLP/JSON, as both encodings arrive at it ----

const Nanos = z.union([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative()]).transform(BigInt);
const HexId = (bytes: number) =>
  z
    .string()
    .regex(new RegExp(`^([0-9a-fA-F]{${bytes * 2}})?$`), `must be ${bytes} bytes in hex`)
    .transform((id) => id.toLowerCase());

type AnyValueInput = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValueInput[] };
  kvlistValue?: { values?: { key: string; value?: AnyValueInput }[] };
  bytesValue?: string;
};
const AnyValue: z.ZodType<AnyValueInput> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: z.union([z.string().regex(/^-?\d{1,20}$/), z.number().int()]).optional(),
    doubleValue: z.number().optional(),
    arrayValue: z.object({ values: z.array(AnyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(KeyValue).optional() }).optional(),
    bytesValue: z.string().optional(),
  }),
);
const KeyValue: z.ZodType<{ key: string; value?: AnyValueInput }> = z.lazy(() =>
  z.object({ key: z.string(), value: AnyValue.optional() }),
);
const KeyValues = z.array(KeyValue).optional();
const Resource = z.object({ attributes: KeyValues }).optional();

const Span = z.object({
  traceId: HexId(16),
  spanId: HexId(8),
  parentSpanId: HexId(8).optional(),
  name: z.string(),
  kind: z.number().int().optional(),
  startTimeUnixNano: Nanos,
  endTimeUnixNano: Nanos,
  attributes: KeyValues,
  events: z.array(z.object({ timeUnixNano: Nanos, name: z.string(), attributes: KeyValues })).optional(),
  status: z.object({ code: z.number().int().optional(), message: z.string().optional() }).optional(),
});
const TracesRequest = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: Resource,
        scopeSpans: z.array(z.object({ spans: z.array(Span).optional() })).optional(),
      }),
    )
    .optional(),
});

const LogRecord = z.object({
  timeUnixNano: Nanos.optional(),
  observedTimeUnixNano: Nanos.optional(),
  body: AnyValue.optional(),
  attributes: KeyValues,
  traceId: HexId(16).optional(),
  spanId: HexId(8).optional(),
  eventName: z.string().optional(),
});
const LogsRequest = z.object({
  resourceLogs: z
    .array(
      z.object({
        resource: Resource,
        scopeLogs: z.array(z.object({ logRecords: z.array(LogRecord).optional() })).optional(),
      }),
    )
    .optional(),
});

const NumberPoint = z.object({
  attributes: KeyValues,
  timeUnixNano: Nanos,
  asDouble: z.number().optional(),
  asInt: z.union([z.string().regex(/^-?\d{1,20}$/), z.number().int()]).optional(),
});
const HistogramPoint = z.object({
  attributes: KeyValues,
  timeUnixNano: Nanos,
  sum: z.number().optional(),
});
const Metric = z.object({
  name: z.string(),
  gauge: z.object({ dataPoints: z.array(NumberPoint).optional() }).optional(),
  sum: z.object({ dataPoints: z.array(NumberPoint).optional() }).optional(),
  histogram: z.object({ dataPoints: z.array(HistogramPoint).optional() }).optional(),
});
const MetricsRequest = z.object({
  resourceMetrics: z
    .array(
      z.object({
        resource: Resource,
        scopeMetrics: z.array(z.object({ metrics: z.array(Metric).optional() })).optional(),
      }),
    )
    .optional(),
});

const SCHEMAS = { traces: TracesRequest, logs: LogsRequest, metrics: MetricsRequest } as const;
const MESSAGES = {
  traces: 'ExportTraceServiceRequest',
  logs: 'ExportLogsServiceRequest',
  metrics: 'ExportMetricsServiceRequest',
} as const;

function value(input: AnyValueInput | undefined): unknown {
  if (!input) return null;
  if (input.stringValue !== undefined) return input.stringValue;
  if (input.boolValue !== undefined) return input.boolValue;
  if (input.intValue !== undefined) {
    const int = Number(input.intValue);
    return Number.isSafeInteger(int) ? int : String(input.intValue);
  }
  if (input.doubleValue !== undefined) return input.doubleValue;
  if (input.arrayValue) return (input.arrayValue.values ?? []).map(value);
  if (input.kvlistValue) return attributes(input.kvlistValue.values);
  if (input.bytesValue !== undefined) return input.bytesValue;
  return null;
}

function attributes(pairs: { key: string; value?: AnyValueInput }[] | undefined): Attributes {
  const out: Attributes = {};
  for (const pair of pairs ?? []) out[pair.key] = value(pair.value);
  return out;
}

function read<S extends OtlpSignal>(signal: S, body: unknown): z.output<(typeof SCHEMAS)[S]> {
  const parsed = SCHEMAS[signal].safeParse(body);
  if (parsed.success) return parsed.data as z.output<(typeof SCHEMAS)[S]>;
  const issue = parsed.error.issues[0];
  throw new OtlpError(
    `not an OTLP ${signal} request: ${issue ? `${issue.path.join('.') || '(body)'}: ${issue.message}` : 'invalid'}`,
  );
}

// The request's spans, log records or metric points.
export function readOtlp(signal: OtlpSignal, body: unknown): OtlpBatch {
  const batch: OtlpBatch = { spans: [], logs: [], metrics: [] };
  if (signal === 'traces') {
    for (const group of read('traces', body).resourceSpans ?? []) {
      const resource = attributes(group.resource?.attributes);
      for (const scope of group.scopeSpans ?? [])
        for (const span of scope.spans ?? [])
          batch.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || null,
            name: span.name,
            kind: span.kind ?? 0,
            startNs: span.startTimeUnixNano,
            endNs: span.endTimeUnixNano,
            status: { code: span.status?.code ?? 0, message: span.status?.message || null },
            attributes: attributes(span.attributes),
            events: (span.events ?? []).map((event) => ({
              name: event.name,
              timeNs: event.timeUnixNano,
              attributes: attributes(event.attributes),
            })),
            resource,
          });
    }
  } else if (signal === 'logs') {
    for (const group of read('logs', body).resourceLogs ?? []) {
      const resource = attributes(group.resource?.attributes);
      for (const scope of group.scopeLogs ?? [])
        for (const record of scope.logRecords ?? []) {
          const recordAttributes = attributes(record.attributes);
          const body = value(record.body);
          const named = recordAttributes['event.name'] ?? record.eventName ?? body;
          batch.logs.push({
            name: typeof named === 'string' && named ? named : 'log',
            timeNs: record.timeUnixNano ?? record.observedTimeUnixNano ?? 0n,
            traceId: record.traceId || null,
            spanId: record.spanId || null,
            attributes: recordAttributes,
            resource,
          });
        }
    }
  } else {
    for (const group of read('metrics', body).resourceMetrics ?? []) {
      const resource = attributes(group.resource?.attributes);
      for (const scope of group.scopeMetrics ?? [])
        for (const metric of scope.metrics ?? []) {
          for (const point of [...(metric.gauge?.dataPoints ?? []), ...(metric.sum?.dataPoints ?? [])])
            batch.metrics.push({
              name: metric.name,
              timeNs: point.timeUnixNano,
              value: point.asDouble ?? Number(point.asInt ?? 0),
              attributes: attributes(point.attributes),
              resource,
            });
          for (const point of metric.histogram?.dataPoints ?? [])
            batch.metrics.push({
              name: `${metric.name}.sum`,
              timeNs: point.timeUnixNano,
              value: point.sum ?? 0,
              attributes: attributes(point.attributes),
              resource,
            });
        }
    }
  }
  return batch;
}

let root: protobuf.Root | undefined;

// A protobuf body as OTLP/JSON would have said it.
export function decodeOtlpProtobuf(signal: OtlpSignal, body: Buffer): unknown {
  root ??= protobuf.parse(OTLP_PROTO).root;
  const type = root.lookupType(`opentelemetry.proto.${MESSAGES[signal]}`);
  let message: protobuf.Message;
  try {
    message = type.decode(body);
  } catch (error) {
    throw new OtlpError(
      `not an OTLP ${signal} request in protobuf: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const object = type.toObject(message, { longs: String, bytes: String, enums: Number, oneofs: false });
  return hexIds(object);
}

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

// protobufjs gives bytes in base64; OTLP/JSON has trace and span ids in hex.
function hexIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(hexIds);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node as Record<string, unknown>))
    out[key] =
      ID_FIELDS.has(key) && typeof child === 'string'
        ? Buffer.from(child, 'base64').toString('hex')
        : hexIds(child);
  return out;
}
