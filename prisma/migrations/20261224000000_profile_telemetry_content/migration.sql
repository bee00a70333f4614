-- Agent profiles: whether the agent CLI's own telemetry includes the prompts and the tools'
-- inputs (docs/observability.md#the-agents-telemetry). Off for every existing profile.
ALTER TABLE "agent_profiles" ADD COLUMN "telemetry_content" BOOLEAN NOT NULL DEFAULT false;
