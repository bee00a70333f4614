-- Why a QUEUED task is not starting, when that is not its turn (docs/governance.md): e.g.
-- `provider-quota` while every credential of its provider's pool is rate limited, until when.
-- Cleared when it is admitted or claimed.
ALTER TABLE "tasks" ADD COLUMN "waiting_reason" TEXT, ADD COLUMN "waiting_until" TIMESTAMPTZ(3);
