-- Rollups for analytics' speed (docs/benchmarks.md, bench/metrics analytics): a year of a
-- project's buckets was ~150 rows each (by profile, status and failure reason), its run-time
-- histograms summed element by element over all of them.
--
-- 1. A 'month' width (calendar months, UTC) beside minute, hour and day in task_rollups and
--    task_tool_rollups: a long range's totals and breakdowns read ~12 rows a key, not 365.
-- 2. task_project_rollups: a bucket's sums for one project, whatever the profile or outcome,
--    with its run-time histogram and its tool calls by tool — what analytics reads for its
--    series, totals, percentiles and top tools. Kept by the metrics service in the transaction
--    that stores the samples, like the others; pruned with them.

CREATE TABLE "task_project_rollups" (
    "width" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "project" TEXT NOT NULL,
    "tasks" BIGINT NOT NULL,
    "cost_usd" DOUBLE PRECISION NOT NULL,
    "input_tokens" BIGINT NOT NULL,
    "output_tokens" BIGINT NOT NULL,
    "cache_read_tokens" BIGINT NOT NULL,
    "cache_creation_tokens" BIGINT NOT NULL,
    "run_count" BIGINT NOT NULL,
    "run_ms_sum" DOUBLE PRECISION NOT NULL,
    "run_hist" BIGINT[] NOT NULL,
    -- Tool calls by tool name: {"Read": 12, "Bash": 3}.
    "tools" JSONB NOT NULL,

    CONSTRAINT "task_project_rollups_pkey" PRIMARY KEY ("width", "bucket", "project")
);

-- What is stored already, rolled up the new ways: the months from the days …
INSERT INTO task_rollups (
  width, bucket, project, profile, status, reason, tasks, cost_usd, input_tokens, output_tokens,
  cache_read_tokens, cache_creation_tokens, num_turns, tool_calls, queue_count, queue_ms_sum,
  queue_hist, run_count, run_ms_sum, run_hist)
SELECT 'month', date_trunc('month', bucket, 'UTC'), project, profile, status, reason, sum(tasks),
  sum(cost_usd), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
  sum(cache_creation_tokens), sum(num_turns), sum(tool_calls), sum(queue_count), sum(queue_ms_sum),
  hangar_sum_counts(queue_hist), sum(run_count), sum(run_ms_sum), hangar_sum_counts(run_hist)
FROM task_rollups WHERE width = 'day'
GROUP BY 2, 3, 4, 5, 6;

INSERT INTO task_tool_rollups (width, bucket, project, profile, tool, calls)
SELECT 'month', date_trunc('month', bucket, 'UTC'), project, profile, tool, sum(calls)
FROM task_tool_rollups WHERE width = 'day'
GROUP BY 2, 3, 4, 5;

-- … and every width's buckets per project (histograms summed by position: a few times faster
-- than hangar_sum_counts over many rows).
INSERT INTO task_project_rollups (
  width, bucket, project, tasks, cost_usd, input_tokens, output_tokens, cache_read_tokens,
  cache_creation_tokens, run_count, run_ms_sum, run_hist, tools)
SELECT s.width, s.bucket, s.project, s.tasks, s.cost_usd, s.input_tokens, s.output_tokens,
  s.cache_read_tokens, s.cache_creation_tokens, s.run_count, s.run_ms_sum,
  coalesce(h.run_hist, '{}'), coalesce(t.tools, '{}')
FROM (
  SELECT width, bucket, project, sum(tasks) AS tasks, sum(cost_usd) AS cost_usd,
    sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens, sum(cache_creation_tokens) AS cache_creation_tokens,
    sum(run_count) AS run_count, sum(run_ms_sum) AS run_ms_sum
  FROM task_rollups GROUP BY 1, 2, 3
) s
LEFT JOIN (
  SELECT width, bucket, project, array_agg(count ORDER BY i) AS run_hist
  FROM (
    SELECT r.width, r.bucket, r.project, u.i, sum(u.count)::bigint AS count
    FROM task_rollups r, unnest(r.run_hist) WITH ORDINALITY AS u(count, i)
    GROUP BY 1, 2, 3, 4
  ) positions
  GROUP BY 1, 2, 3
) h USING (width, bucket, project)
LEFT JOIN (
  SELECT width, bucket, project, jsonb_object_agg(tool, calls) AS tools
  FROM (
    SELECT width, bucket, project, tool, sum(calls) AS calls FROM task_tool_rollups GROUP BY 1, 2, 3, 4
  ) by_tool
  GROUP BY 1, 2, 3
) t USING (width, bucket, project);
