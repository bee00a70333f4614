-- Approvals for headless agents (docs/governance.md): a profile's policy of tool calls that wait
-- for a person, and each call that waited, with its answer.
ALTER TABLE "agent_profiles" ADD COLUMN "approvals" JSONB;

CREATE TABLE "approvals" (
    "id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "tool" TEXT NOT NULL,
    "input" JSONB NOT NULL,
    "tool_use_id" TEXT NOT NULL,
    "rule" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "decision" TEXT,
    "message" TEXT,
    "answered_by" TEXT,
    "answered_at" TIMESTAMPTZ(3),
    "deadline" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "approvals_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "approvals_task_id_attempt_tool_use_id_key" ON "approvals"("task_id", "attempt", "tool_use_id");
CREATE INDEX "approvals_project_id_status_idx" ON "approvals"("project_id", "status");

ALTER TABLE "approvals" ADD CONSTRAINT "approvals_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
