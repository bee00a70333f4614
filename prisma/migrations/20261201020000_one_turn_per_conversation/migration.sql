-- A conversation runs one turn at a time: at most one unfinished task per conversation, enforced
-- here so two messages sent at the same instant cannot both start a turn. A partial index, which
-- schema.prisma cannot express (see docs/database.md).
CREATE UNIQUE INDEX "tasks_conversation_id_active_key" ON "tasks"("conversation_id") WHERE "status" IN ('QUEUED', 'RUNNING');
