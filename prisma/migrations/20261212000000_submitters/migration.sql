-- Who started a task or a workflow run (docs/governance.md): the user, and the API token when
-- one was used (its maker is then the user). Budgets of a user and of a token count their
-- tasks' model calls. A webhook's task has neither; a step's task and a delegated child have
-- their run's or parent's. No foreign keys: what was started outlives who started it.
ALTER TABLE "tasks" ADD COLUMN "user_id" TEXT, ADD COLUMN "token_id" TEXT;
ALTER TABLE "workflow_runs" ADD COLUMN "user_id" TEXT, ADD COLUMN "token_id" TEXT;
