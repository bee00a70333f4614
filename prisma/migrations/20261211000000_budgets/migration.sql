-- Budgets: limits on what model calls may cost, checked before each call (docs/governance.md).
CREATE TABLE "budgets" (
    "id" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "project_id" TEXT,
    "target" TEXT,
    "period" TEXT NOT NULL,
    "limit_usd" DOUBLE PRECISION,
    "limit_tokens" BIGINT,
    "soft_percent" INTEGER NOT NULL DEFAULT 80,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "budgets_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "budgets_project_id_idx" ON "budgets"("project_id");

-- AddForeignKey
ALTER TABLE "budgets" ADD CONSTRAINT "budgets_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
