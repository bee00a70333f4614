-- The tasks a project's admission looks for (QUEUED and not admitted yet), in a partial index: a
-- task created had its project's admission read every task already admitted and waiting on the
-- runners' queues (the (project_id, status) index holds them all), so each creation cost more the
-- longer the queue. Prisma cannot express a partial index (docs/database.md).
-- CreateIndex
CREATE INDEX "tasks_awaiting_admission_idx" ON "tasks"("project_id", "created_at") WHERE "status" = 'QUEUED' AND "admitted_at" IS NULL;
