-- Time series of ended tasks (docs/observability.md), written by the metrics service alone with
-- node-postgres: a partitioned table and its rollups are not Prisma models (docs/database.md).
-- One migration for both storages: a TimescaleDB hypertable where the extension is available,
-- native range partitions by day otherwise (the metrics service makes them ahead and drops them
-- after its retention; what falls outside them lands in the default partition).
DO $migration$
DECLARE
  timescale BOOLEAN := EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb');
  -- One sample per ended task, at the time it ended; its tool calls by tool name.
  columns TEXT := $columns$
    "finished_at" TIMESTAMPTZ(3) NOT NULL,
    "task_id" TEXT NOT NULL,
    "project" TEXT NOT NULL,
    "profile" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "attempts" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3),
    "queue_ms" INTEGER,
    "run_ms" INTEGER,
    "cost_usd" DOUBLE PRECISION,
    "input_tokens" BIGINT,
    "output_tokens" BIGINT,
    "cache_read_tokens" BIGINT,
    "cache_creation_tokens" BIGINT,
    "num_turns" INTEGER,
    "tool_calls" JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT "task_samples_pkey" PRIMARY KEY ("task_id", "finished_at")
  $columns$;
BEGIN
  IF timescale THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    EXECUTE format('CREATE TABLE "task_samples" (%s)', columns);
    PERFORM create_hypertable('task_samples', by_range('finished_at', INTERVAL '1 day'));
    ALTER TABLE "task_samples" SET (timescaledb.compress, timescaledb.compress_segmentby = 'project, profile');
    PERFORM add_compression_policy('task_samples', INTERVAL '7 days');
  ELSE
    EXECUTE format('CREATE TABLE "task_samples" (%s) PARTITION BY RANGE ("finished_at")', columns);
    CREATE TABLE "task_samples_default" PARTITION OF "task_samples" DEFAULT;
  END IF;
END
$migration$;

CREATE INDEX "task_samples_project_finished_at_idx" ON "task_samples"("project", "finished_at");

-- The samples summed by minute, hour and day (`width`) and by project, profile, status and
-- failure reason ('' when it completed), kept by the metrics service in the transaction that
-- stores the samples: analytics read these, never the samples. Durations as histograms over
-- DURATION_BOUNDS_MS (libs/contracts): counts by bucket, summed element by element.
CREATE TABLE "task_rollups" (
    "width" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "project" TEXT NOT NULL,
    "profile" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "tasks" BIGINT NOT NULL,
    "cost_usd" DOUBLE PRECISION NOT NULL,
    "input_tokens" BIGINT NOT NULL,
    "output_tokens" BIGINT NOT NULL,
    "cache_read_tokens" BIGINT NOT NULL,
    "cache_creation_tokens" BIGINT NOT NULL,
    "num_turns" BIGINT NOT NULL,
    "tool_calls" BIGINT NOT NULL,
    "queue_count" BIGINT NOT NULL,
    "queue_ms_sum" DOUBLE PRECISION NOT NULL,
    "queue_hist" BIGINT[] NOT NULL,
    "run_count" BIGINT NOT NULL,
    "run_ms_sum" DOUBLE PRECISION NOT NULL,
    "run_hist" BIGINT[] NOT NULL,

    CONSTRAINT "task_rollups_pkey" PRIMARY KEY ("width", "bucket", "project", "profile", "status", "reason")
);

CREATE TABLE "task_tool_rollups" (
    "width" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "project" TEXT NOT NULL,
    "profile" TEXT NOT NULL,
    "tool" TEXT NOT NULL,
    "calls" BIGINT NOT NULL,

    CONSTRAINT "task_tool_rollups_pkey" PRIMARY KEY ("width", "bucket", "project", "profile", "tool")
);

-- Records the metrics service could not store (a body that is not a record), with why: kept for
-- people to see, never retried.
CREATE TABLE "metric_records_parked" (
    "id" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "parked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "metric_records_parked_pkey" PRIMARY KEY ("id")
);

-- Two histograms' counts summed element by element (the shorter one padded with zeros).
CREATE FUNCTION "hangar_add_counts"(a BIGINT[], b BIGINT[]) RETURNS BIGINT[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i), '{}')
  FROM unnest(a, b) WITH ORDINALITY AS u(x, y, i)
$$;

CREATE AGGREGATE "hangar_sum_counts"(BIGINT[]) (SFUNC = "hangar_add_counts", STYPE = BIGINT[], INITCOND = '{}');

-- A histogram counting one value in bucket `bucket` (width_bucket's numbering, from 0); none for null.
CREATE FUNCTION "hangar_count_in"(bucket INTEGER) RETURNS BIGINT[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN bucket IS NULL THEN '{}'::BIGINT[] ELSE array_fill(0::BIGINT, ARRAY[bucket]) || 1::BIGINT END
$$;
