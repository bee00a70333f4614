-- Every call an agent makes to its model API through the runner's model gateway, metered
-- (docs/governance.md).
CREATE TABLE "model_calls" (
    "id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "project_id" TEXT NOT NULL,
    "workflow_run_id" TEXT,
    "provider" TEXT NOT NULL,
    "model" TEXT,
    "credential" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "input_tokens" INTEGER,
    "output_tokens" INTEGER,
    "cache_read_tokens" INTEGER,
    "cache_write_tokens" INTEGER,
    "cost_usd" DOUBLE PRECISION,
    "price_version" TEXT,
    "latency_ms" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "model_calls_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "model_calls_task_id_attempt_idx" ON "model_calls"("task_id", "attempt");

-- CreateIndex
CREATE INDEX "model_calls_project_id_started_at_idx" ON "model_calls"("project_id", "started_at");

-- AddForeignKey
ALTER TABLE "model_calls" ADD CONSTRAINT "model_calls_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
