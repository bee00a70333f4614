-- Routing (docs/routing.md): a task may require runner labels; the orchestrator routes it to a
-- runner pool (or, for a shared workspace, the runner holding it) by a strategy chosen per
-- workflow (tasks.routing) or project (projects.routing_strategy).
ALTER TABLE "tasks" ADD COLUMN "requires" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "tasks" ADD COLUMN "routing" TEXT;
ALTER TABLE "tasks" ADD COLUMN "pool" TEXT;
ALTER TABLE "projects" ADD COLUMN "routing_strategy" TEXT;

-- The performance strategy's history: a profile's recent finished tasks, by pool.
CREATE INDEX "tasks_profile_id_finished_at_idx" ON "tasks"("profile_id", "finished_at");
