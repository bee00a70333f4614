-- The W3C trace context of the request that created a task ({traceparent, tracestate}), so that
-- whatever queues it later without a message (the orchestrator's reconciler, a retry) carries
-- it on, and its view can name its trace (docs/observability.md#one-trace-per-request).
ALTER TABLE "tasks" ADD COLUMN "trace" JSONB;
