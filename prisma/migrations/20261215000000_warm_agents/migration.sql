-- Agent CLIs each runner keeps started ahead of time for a profile (issue 16); null: the runners' default.
ALTER TABLE "agent_profiles" ADD COLUMN "warm" INTEGER;
