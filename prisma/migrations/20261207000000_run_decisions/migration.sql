-- How many decisions the workflow engine has stored for a run: each one counts it up under the
-- run's lock, so the number orders them, and its activity is told in that order
-- (libs/platform WorkflowRunActivity).
ALTER TABLE "workflow_runs" ADD COLUMN "decisions" INTEGER NOT NULL DEFAULT 0;
