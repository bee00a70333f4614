-- How the attempt's agent was isolated: bwrap (the runner's sandbox), pod (a task pod of the
-- kubernetes executor) or none (RUNNER_SANDBOX=off).
ALTER TABLE "tasks" ADD COLUMN "sandbox" TEXT;

-- CreateTable
CREATE TABLE "attempt_tokens" (
    "token_hash" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "provider" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attempt_tokens_pkey" PRIMARY KEY ("token_hash")
);

-- CreateIndex
CREATE INDEX "attempt_tokens_task_id_attempt_idx" ON "attempt_tokens"("task_id", "attempt");

-- AddForeignKey
ALTER TABLE "attempt_tokens" ADD CONSTRAINT "attempt_tokens_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
