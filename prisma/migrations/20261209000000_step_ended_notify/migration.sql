-- A workflow step's task ended: the orchestrator that listens hears it as the change commits
-- (NOTIFY is delivered at commit), sooner than through the lifecycle's job on the workflow
-- queue, which stays the durable way (docs/workflows.md). The payload is how the task ended
-- (the lifecycle job's `task`), or only its id and status when that does not fit NOTIFY's
-- 8000 bytes.
CREATE FUNCTION "tasks_step_ended_notify"() RETURNS trigger AS $$
DECLARE
  payload text;
BEGIN
  payload := json_build_object(
    'runId', NEW."workflow_run_id",
    'task', json_build_object(
      'id', NEW."id",
      'status', NEW."status",
      'result', NEW."result",
      'costUsd', NEW."cost_usd",
      'error', NEW."error",
      'check', NEW."check_result"))::text;
  IF octet_length(payload) > 7900 THEN
    payload := json_build_object('runId', NEW."workflow_run_id", 'taskId', NEW."id", 'status', NEW."status")::text;
  END IF;
  PERFORM pg_notify('hangar_step_ended', payload);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "tasks_step_ended_notify" AFTER UPDATE OF "status" ON "tasks"
FOR EACH ROW
WHEN (NEW."workflow_run_id" IS NOT NULL
  AND NEW."status" IN ('COMPLETED', 'FAILED', 'CANCELLED')
  AND OLD."status" IS DISTINCT FROM NEW."status")
EXECUTE FUNCTION "tasks_step_ended_notify"();
