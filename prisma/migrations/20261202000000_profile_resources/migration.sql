-- A profile's requests and limits for the pod of each of its tasks (the kubernetes executor):
-- {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}; null: the defaults.
ALTER TABLE "agent_profiles" ADD COLUMN "resources" JSONB;
