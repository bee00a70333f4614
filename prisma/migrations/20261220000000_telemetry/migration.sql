-- What the agent CLIs' own OpenTelemetry sends (docs/observability.md#the-agents-telemetry),
-- received by the metrics service over OTLP and stored against the task it came from: spans
-- (their trace joins the task's), events (OTLP log records) and metric points. Written by the
-- metrics service alone, with node-postgres (`TaskTelemetry` in libs/db); not Prisma models.

CREATE TABLE "telemetry_spans" (
    "trace_id" TEXT NOT NULL,
    "span_id" TEXT NOT NULL,
    "parent_span_id" TEXT,
    "task_id" TEXT,
    "service" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" INTEGER NOT NULL,
    "start_at" TIMESTAMPTZ(6) NOT NULL,
    "end_at" TIMESTAMPTZ(6) NOT NULL,
    "status_code" INTEGER NOT NULL,
    "status_message" TEXT,
    "attributes" JSONB NOT NULL,
    "events" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "telemetry_spans_pkey" PRIMARY KEY ("trace_id", "span_id")
);
CREATE INDEX "telemetry_spans_task_id_start_at_idx" ON "telemetry_spans"("task_id", "start_at");
CREATE INDEX "telemetry_spans_received_at_idx" ON "telemetry_spans"("received_at");

-- An exporter that retries sends a record again: the same record (its time, name and
-- attributes) is stored once.
CREATE TABLE "telemetry_events" (
    "task_id" TEXT,
    "service" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL,
    "trace_id" TEXT,
    "span_id" TEXT,
    "attributes" JSONB NOT NULL,
    "digest" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "telemetry_events_pkey" PRIMARY KEY ("digest")
);
CREATE INDEX "telemetry_events_task_id_at_idx" ON "telemetry_events"("task_id", "at");
CREATE INDEX "telemetry_events_received_at_idx" ON "telemetry_events"("received_at");

CREATE TABLE "telemetry_points" (
    "task_id" TEXT,
    "service" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "attributes" JSONB NOT NULL,
    "digest" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "telemetry_points_pkey" PRIMARY KEY ("digest")
);
CREATE INDEX "telemetry_points_task_id_name_idx" ON "telemetry_points"("task_id", "name");
CREATE INDEX "telemetry_points_received_at_idx" ON "telemetry_points"("received_at");
