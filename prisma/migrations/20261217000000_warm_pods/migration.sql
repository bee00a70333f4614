-- Warm task pods of the kubernetes executor (issue 16): their own credential (hashed), the profile
-- they were started for, and the attempt assigned to them.
CREATE TABLE "warm_pods" (
    "job_name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "profile_id" TEXT NOT NULL,
    "profile_version" TIMESTAMPTZ(3) NOT NULL,
    "attempt_token_hash" TEXT,
    "ready_at" TIMESTAMPTZ(3),
    "task_id" TEXT,
    "attempt" INTEGER,
    "assigned_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "warm_pods_pkey" PRIMARY KEY ("job_name")
);
CREATE UNIQUE INDEX "warm_pods_token_hash_key" ON "warm_pods"("token_hash");
CREATE INDEX "warm_pods_profile_id_idx" ON "warm_pods"("profile_id");

-- The warm Job an attempt runs in (its runner id); null: the attempt's own Job.
ALTER TABLE "attempt_tokens" ADD COLUMN "runner_id" TEXT;
