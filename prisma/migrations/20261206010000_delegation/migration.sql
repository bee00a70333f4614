-- Agents that delegate (docs/delegation.md): a task started by another task's agent is its
-- child. root_task_id is the tree's id, a root's own id; depth counts from the root (0).
ALTER TABLE "tasks" ADD COLUMN "parent_task_id" TEXT,
ADD COLUMN "root_task_id" TEXT,
ADD COLUMN "depth" INTEGER NOT NULL DEFAULT 0;

-- A workflow run started by a delegating agent: its parent task (no foreign key: a run outlives
-- nothing of its parent's, and Prisma would need the two relations between tasks and runs named).
ALTER TABLE "workflow_runs" ADD COLUMN "parent_task_id" TEXT;

-- A profile's delegation setting ({enabled, profiles, maxDepth, maxChildren}); null: off.
ALTER TABLE "agent_profiles" ADD COLUMN "delegation" JSONB;

-- Every task so far is a root.
UPDATE "tasks" SET "root_task_id" = "id";

-- A root is its own tree: the id is chosen by the client (cuid), so the database fills it in.
-- Prisma cannot express a trigger; `prisma migrate diff` leaves it alone.
CREATE FUNCTION "tasks_root_task_id_default"() RETURNS trigger AS $$
BEGIN
  NEW."root_task_id" := COALESCE(NEW."root_task_id", NEW."id");
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "tasks_root_task_id_default" BEFORE INSERT ON "tasks"
FOR EACH ROW EXECUTE FUNCTION "tasks_root_task_id_default"();

-- CreateIndex
CREATE INDEX "tasks_parent_task_id_idx" ON "tasks"("parent_task_id");

-- CreateIndex
CREATE INDEX "tasks_root_task_id_idx" ON "tasks"("root_task_id");

-- CreateIndex
CREATE INDEX "workflow_runs_parent_task_id_idx" ON "workflow_runs"("parent_task_id");

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_parent_task_id_fkey" FOREIGN KEY ("parent_task_id") REFERENCES "tasks"("id") ON DELETE SET NULL ON UPDATE CASCADE;
