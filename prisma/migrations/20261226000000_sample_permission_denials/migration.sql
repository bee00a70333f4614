-- A task's sample says the tool calls its CLI's permission rules refused, by tool name, as it
-- says its tool calls (docs/observability.md): from the task's `result` event.
ALTER TABLE "task_samples" ADD COLUMN "permission_denials" JSONB NOT NULL DEFAULT '{}';
