-- Anomalies of an hour (docs/alerts.md#anomalies): a profile's hour in a project far outside its
-- usual hours (its failure rate, its cost). An hour's anomaly names no task: it names its hour,
-- and is stored once per project, profile, measure and hour.
ALTER TABLE "anomalies" ALTER COLUMN "task_id" DROP NOT NULL;
ALTER TABLE "anomalies" ADD COLUMN "hour" TIMESTAMPTZ(3);
ALTER TABLE "anomalies" ADD CONSTRAINT "anomalies_task_or_hour" CHECK (("task_id" IS NULL) <> ("hour" IS NULL));
CREATE UNIQUE INDEX "anomalies_project_profile_metric_hour_key" ON "anomalies"("project", "profile", "metric", "hour");
