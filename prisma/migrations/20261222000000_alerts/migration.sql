-- Alerts and anomalies (docs/alerts.md): rules on series of the time series of ended tasks,
-- their notification targets, silences, firings and the notifications sent for them; the
-- anomalies found against each profile's baseline. Rules, targets and silences are made through
-- the gateway; the metrics service evaluates rules, keeps firings and delivers notifications.

CREATE TABLE "alert_rules" (
    "id" TEXT NOT NULL,
    "project_id" TEXT,
    "name" TEXT NOT NULL,
    "series" TEXT NOT NULL,
    "comparator" TEXT NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "window_minutes" INTEGER NOT NULL,
    "for_seconds" INTEGER NOT NULL,
    "severity" TEXT NOT NULL,
    "profile" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "state" TEXT NOT NULL DEFAULT 'inactive',
    "state_since" TIMESTAMPTZ(3),
    "value" DOUBLE PRECISION,
    "evaluated_at" TIMESTAMPTZ(3),
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_rules_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "alert_rules_project_id_idx" ON "alert_rules"("project_id");
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "alert_targets" (
    "id" TEXT NOT NULL,
    "project_id" TEXT,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_targets_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "alert_targets_project_id_idx" ON "alert_targets"("project_id");
ALTER TABLE "alert_targets" ADD CONSTRAINT "alert_targets_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "alert_rule_targets" (
    "rule_id" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,

    CONSTRAINT "alert_rule_targets_pkey" PRIMARY KEY ("rule_id", "target_id")
);
CREATE INDEX "alert_rule_targets_target_id_idx" ON "alert_rule_targets"("target_id");
ALTER TABLE "alert_rule_targets" ADD CONSTRAINT "alert_rule_targets_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rules"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "alert_rule_targets" ADD CONSTRAINT "alert_rule_targets_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "alert_targets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "alert_silences" (
    "id" TEXT NOT NULL,
    "project_id" TEXT,
    "rule_id" TEXT,
    "starts_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "comment" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,

    CONSTRAINT "alert_silences_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "alert_silences_ends_at_idx" ON "alert_silences"("ends_at");
ALTER TABLE "alert_silences" ADD CONSTRAINT "alert_silences_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "alert_silences" ADD CONSTRAINT "alert_silences_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rules"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "alert_firings" (
    "id" TEXT NOT NULL,
    "rule_id" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "fired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),
    "silenced" BOOLEAN NOT NULL,
    "resent_at" TIMESTAMPTZ(3),

    CONSTRAINT "alert_firings_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "alert_firings_rule_id_fired_at_idx" ON "alert_firings"("rule_id", "fired_at");
ALTER TABLE "alert_firings" ADD CONSTRAINT "alert_firings_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rules"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "alert_notifications" (
    "id" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "firing_ids" TEXT[],
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_notifications_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "alert_notifications_status_next_at_idx" ON "alert_notifications"("status", "next_at");
CREATE INDEX "alert_notifications_firing_ids_idx" ON "alert_notifications" USING GIN ("firing_ids");
ALTER TABLE "alert_notifications" ADD CONSTRAINT "alert_notifications_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "alert_targets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "anomalies" (
    "id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "project" TEXT NOT NULL,
    "profile" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "median" DOUBLE PRECISION NOT NULL,
    "mad" DOUBLE PRECISION NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "baseline_tasks" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "anomalies_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "anomalies_task_id_metric_key" ON "anomalies"("task_id", "metric");
CREATE INDEX "anomalies_project_at_idx" ON "anomalies"("project", "at");
