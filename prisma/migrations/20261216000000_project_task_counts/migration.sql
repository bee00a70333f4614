-- Each project's active (QUEUED, RUNNING) tasks, kept as changes to add up (docs/database.md):
-- every statement that creates, changes or removes tasks adds one row per project it changed the
-- counts of, and the orchestrator folds a project's rows into one now and then. Reading a
-- project's counts sums a few rows, however many tasks wait (counting the tasks themselves took
-- a millisecond per thousand queued, at every task created and every status told).
-- CreateTable
CREATE TABLE "project_task_counts" (
    "id" BIGSERIAL NOT NULL,
    "project_id" TEXT NOT NULL,
    "queued" INTEGER NOT NULL,
    "running" INTEGER NOT NULL,

    CONSTRAINT "project_task_counts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "project_task_counts_project_id_idx" ON "project_task_counts"("project_id");

-- The counts so far.
INSERT INTO "project_task_counts" ("project_id", "queued", "running")
SELECT "project_id", count(*) FILTER (WHERE "status" = 'QUEUED'), count(*) FILTER (WHERE "status" = 'RUNNING')
FROM "tasks" WHERE "status" IN ('QUEUED', 'RUNNING') GROUP BY "project_id";

-- One statement, one row per project whose counts it changed (statement-level triggers with the
-- statement's transition tables: a workflow's step creating a hundred tasks adds one row).
-- Prisma cannot express triggers; `prisma migrate diff` leaves them alone.
CREATE FUNCTION "project_task_counts_changed"() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "project_task_counts" ("project_id", "queued", "running")
    SELECT "project_id", count(*) FILTER (WHERE "status" = 'QUEUED'), count(*) FILTER (WHERE "status" = 'RUNNING')
    FROM "new_tasks" WHERE "status" IN ('QUEUED', 'RUNNING') GROUP BY "project_id";
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "project_task_counts" ("project_id", "queued", "running")
    SELECT "project_id", -count(*) FILTER (WHERE "status" = 'QUEUED'), -count(*) FILTER (WHERE "status" = 'RUNNING')
    FROM "old_tasks" WHERE "status" IN ('QUEUED', 'RUNNING') GROUP BY "project_id";
  ELSE
    INSERT INTO "project_task_counts" ("project_id", "queued", "running")
    SELECT "project_id", sum("queued"), sum("running") FROM (
      SELECT "project_id", ("status" = 'QUEUED')::int AS "queued", ("status" = 'RUNNING')::int AS "running"
      FROM "new_tasks" WHERE "status" IN ('QUEUED', 'RUNNING')
      UNION ALL
      SELECT "project_id", -("status" = 'QUEUED')::int, -("status" = 'RUNNING')::int
      FROM "old_tasks" WHERE "status" IN ('QUEUED', 'RUNNING')
    ) AS "change"
    GROUP BY "project_id" HAVING sum("queued") <> 0 OR sum("running") <> 0;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "tasks_counts_inserted" AFTER INSERT ON "tasks"
REFERENCING NEW TABLE AS "new_tasks"
FOR EACH STATEMENT EXECUTE FUNCTION "project_task_counts_changed"();

CREATE TRIGGER "tasks_counts_updated" AFTER UPDATE ON "tasks"
REFERENCING OLD TABLE AS "old_tasks" NEW TABLE AS "new_tasks"
FOR EACH STATEMENT EXECUTE FUNCTION "project_task_counts_changed"();

CREATE TRIGGER "tasks_counts_deleted" AFTER DELETE ON "tasks"
REFERENCING OLD TABLE AS "old_tasks"
FOR EACH STATEMENT EXECUTE FUNCTION "project_task_counts_changed"();
