-- Scheduling policy in the orchestrator: a QUEUED task goes onto the runners' queue once it is
-- admitted (within its project's cap of active tasks); admitted_at says when.
ALTER TABLE "tasks" ADD COLUMN "admitted_at" TIMESTAMPTZ(3);

-- Tasks waiting already are on the queue: admitted.
UPDATE "tasks" SET "admitted_at" = "created_at" WHERE "status" IN ('QUEUED', 'RUNNING');

CREATE INDEX "tasks_project_id_status_idx" ON "tasks"("project_id", "status");
