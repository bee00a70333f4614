-- Grafana's read-only PostgreSQL role (the datasource hangar-postgres), made by the compose
-- service grafana-reader after every migration: psql -v password=… -f reader-role.sql.
-- Idempotent. It may read the tables the dashboards read and nothing else: not the tasks'
-- prompts, the API tokens or the alert targets' webhook URLs.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hangar_grafana') THEN
    CREATE ROLE hangar_grafana LOGIN;
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO hangar_grafana', current_database());
END
$$;
ALTER ROLE hangar_grafana WITH LOGIN PASSWORD :'password';
ALTER ROLE hangar_grafana SET default_transaction_read_only = on;
GRANT USAGE ON SCHEMA public TO hangar_grafana;
GRANT SELECT ON task_rollups, task_tool_rollups, anomalies, alert_rules, alert_firings, projects,
  workflows, workflow_runs, workflow_steps TO hangar_grafana;
