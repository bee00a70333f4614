import { createHash } from 'node:crypto';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { json, type Sql } from '../sql';

type Attributes = Record<string, unknown>;

// What an OTLP request carried, read (services/metrics/src/modules/telemetry/otlp.ts).
export interface TelemetrySpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  status: { code: number; message: string | null };
  attributes: Attributes;
  events: { name: string; timeNs: bigint; attributes: Attributes }[];
  resource: Attributes;
}

export interface TelemetryEvent {
  name: string;
  timeNs: bigint;
  traceId: string | null;
  spanId: string | null;
  attributes: Attributes;
  resource: Attributes;
}

export interface TelemetryPoint {
  name: string;
  timeNs: bigint;
  value: number;
  attributes: Attributes;
  resource: Attributes;
}

// A stored span, as a task's trace shows it.
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  taskId: string | null;
  service: string;
  name: string;
  startAt: Date;
  endAt: Date;
  statusCode: number;
  attributes: Attributes;
}

export interface StoredEvent {
  taskId: string | null;
  service: string;
  name: string;
  at: Date;
  traceId: string | null;
  attributes: Attributes;
}

const service = (resource: Attributes) =>
  typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown';

// Nanoseconds since the epoch, as PostgreSQL takes them (to microseconds).
const nanos = (ns: bigint) => ns.toString();

function digest(...parts: unknown[]): string {
  return createHash('sha256')
    .update(
      JSON.stringify(parts, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
    )
    .digest('hex');
}

// The agents' own telemetry (docs/observability.md#the-agents-telemetry): spans, events and
// metric points, each stored once (a span by its ids; an event or point by what it says) against
// the task whose attempt sent it. Written by the metrics service alone.
export class TaskTelemetry {
  private readonly sql: Sql;

  constructor(prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  async store(
    taskId: string | null,
    batch: { spans: TelemetrySpan[]; logs: TelemetryEvent[]; metrics: TelemetryPoint[] },
  ): Promise<{ spans: number; events: number; points: number }> {
    const stored = { spans: 0, events: 0, points: 0 };
    if (batch.spans.length > 0) {
      const rows = batch.spans.map((span) => ({
        trace_id: span.traceId,
        span_id: span.spanId,
        parent_span_id: span.parentSpanId,
        service: service(span.resource),
        name: span.name,
        kind: span.kind,
        start_ns: nanos(span.startNs),
        end_ns: nanos(span.endNs),
        status_code: span.status.code,
        status_message: span.status.message,
        attributes: { ...span.resource, ...span.attributes },
        events: span.events.map((event) => ({ ...event, timeNs: nanos(event.timeNs) })),
      }));
      const [row] = await this.sql.query<{ n: number }>(Prisma.sql`
        WITH inserted AS (
          INSERT INTO telemetry_spans (trace_id, span_id, parent_span_id, task_id, service, name, kind,
            start_at, end_at, status_code, status_message, attributes, events)
          SELECT trace_id, span_id, parent_span_id, ${taskId}, service, name, kind,
            to_timestamp(start_ns::numeric / 1000000000), to_timestamp(end_ns::numeric / 1000000000),
            status_code, status_message, attributes, events
          FROM jsonb_to_recordset(${json(rows)}::jsonb) AS r(trace_id text, span_id text,
            parent_span_id text, service text, name text, kind int, start_ns text, end_ns text,
            status_code int, status_message text, attributes jsonb, events jsonb)
          ON CONFLICT DO NOTHING
          RETURNING 1
        )
        SELECT count(*)::int AS n FROM inserted`);
      stored.spans = row?.n ?? 0;
    }
    if (batch.logs.length > 0) {
      const rows = batch.logs.map((event) => ({
        service: service(event.resource),
        name: event.name,
        at_ns: nanos(event.timeNs),
        trace_id: event.traceId,
        span_id: event.spanId,
        attributes: event.attributes,
        digest: digest(taskId, service(event.resource), event.name, event.timeNs, event.attributes),
      }));
      const [row] = await this.sql.query<{ n: number }>(Prisma.sql`
        WITH inserted AS (
          INSERT INTO telemetry_events (task_id, service, name, at, trace_id, span_id, attributes, digest)
          SELECT ${taskId}, service, name, to_timestamp(at_ns::numeric / 1000000000), trace_id, span_id,
            attributes, digest
          FROM jsonb_to_recordset(${json(rows)}::jsonb) AS r(service text, name text, at_ns text,
            trace_id text, span_id text, attributes jsonb, digest text)
          ON CONFLICT DO NOTHING
          RETURNING 1
        )
        SELECT count(*)::int AS n FROM inserted`);
      stored.events = row?.n ?? 0;
    }
    if (batch.metrics.length > 0) {
      const rows = batch.metrics.map((point) => ({
        service: service(point.resource),
        name: point.name,
        at_ns: nanos(point.timeNs),
        value: point.value,
        attributes: point.attributes,
        digest: digest(taskId, service(point.resource), point.name, point.timeNs, point.attributes),
      }));
      const [row] = await this.sql.query<{ n: number }>(Prisma.sql`
        WITH inserted AS (
          INSERT INTO telemetry_points (task_id, service, name, at, value, attributes, digest)
          SELECT ${taskId}, service, name, to_timestamp(at_ns::numeric / 1000000000), value, attributes, digest
          FROM jsonb_to_recordset(${json(rows)}::jsonb) AS r(service text, name text, at_ns text,
            value float8, attributes jsonb, digest text)
          ON CONFLICT DO NOTHING
          RETURNING 1
        )
        SELECT count(*)::int AS n FROM inserted`);
      stored.points = row?.n ?? 0;
    }
    return stored;
  }

  // A task's spans, oldest first.
  async spansOf(taskId: string): Promise<StoredSpan[]> {
    return this.sql.query(Prisma.sql`
      SELECT trace_id AS "traceId", span_id AS "spanId", parent_span_id AS "parentSpanId",
        task_id AS "taskId", service, name, start_at AS "startAt", end_at AS "endAt",
        status_code AS "statusCode", attributes
      FROM telemetry_spans WHERE task_id = ${taskId} ORDER BY start_at, span_id`);
  }

  // Every span of a trace, whoever sent it, oldest first.
  async trace(traceId: string): Promise<StoredSpan[]> {
    return this.sql.query(Prisma.sql`
      SELECT trace_id AS "traceId", span_id AS "spanId", parent_span_id AS "parentSpanId",
        task_id AS "taskId", service, name, start_at AS "startAt", end_at AS "endAt",
        status_code AS "statusCode", attributes
      FROM telemetry_spans WHERE trace_id = ${traceId} ORDER BY start_at, span_id`);
  }

  // A task's events, oldest first.
  async eventsOf(taskId: string): Promise<StoredEvent[]> {
    return this.sql.query(Prisma.sql`
      SELECT task_id AS "taskId", service, name, at, trace_id AS "traceId", attributes
      FROM telemetry_events WHERE task_id = ${taskId} ORDER BY at, name`);
  }

  // A task's metric points by name: their sum (the CLI's counters are sent as deltas).
  async pointsOf(taskId: string): Promise<Record<string, number>> {
    const rows = await this.sql.query<{ name: string; total: number }>(Prisma.sql`
      SELECT name, sum(value)::float8 AS total FROM telemetry_points WHERE task_id = ${taskId} GROUP BY name`);
    return Object.fromEntries(rows.map((row) => [row.name, row.total]));
  }

  // Telemetry received before `cutoff` goes.
  async dropBefore(cutoff: Date): Promise<void> {
    for (const table of ['telemetry_spans', 'telemetry_events', 'telemetry_points'])
      await this.sql.query(Prisma.sql`${Prisma.raw(`DELETE FROM ${table} WHERE received_at < `)}${cutoff}`);
  }
}
