-- Agent profiles: whether the CLI loads the repository's own settings (hooks, permission rules,
-- MCP servers; off unless an instance administrator turns it on), and whether tasks may reach the
-- internet through the runner's egress proxy. Both off for every existing profile.
ALTER TABLE "agent_profiles" ADD COLUMN "trust_repository_settings" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "agent_profiles" ADD COLUMN "internet_access" BOOLEAN NOT NULL DEFAULT false;

-- The idempotency store kept whole answers, secrets shown once included (a new API token's
-- `token`, a new webhook's `secret`). It keeps them as null from now on; so do the answers it holds.
UPDATE "idempotency_keys"
SET "response_body" = "response_body"
  || CASE WHEN "response_body" ? 'token' THEN '{"token": null}'::jsonb ELSE '{}'::jsonb END
  || CASE WHEN "response_body" ? 'secret' THEN '{"secret": null}'::jsonb ELSE '{}'::jsonb END
WHERE jsonb_typeof("response_body") = 'object' AND "response_body" ?| ARRAY['token', 'secret'];
