-- A task's check: a command run in its workspace after its agent completed (a workflow step's
-- `check`), and how it ended.
ALTER TABLE "tasks" ADD COLUMN "check" JSONB;
ALTER TABLE "tasks" ADD COLUMN "check_result" JSONB;
