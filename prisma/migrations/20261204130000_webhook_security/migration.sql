-- Whose comments, issues and pull requests a GitHub receiver acts on (GitHub's author_association).
ALTER TABLE "webhook_configs" ADD COLUMN "author_associations" TEXT[] NOT NULL DEFAULT ARRAY['OWNER', 'MEMBER', 'COLLABORATOR']::TEXT[];

-- The sha256 of a delivery's signed body: the same body again within the replay window is a
-- duplicate, whatever delivery id it claims.
ALTER TABLE "webhook_deliveries" ADD COLUMN "body_sha256" TEXT;

-- CreateIndex
CREATE INDEX "webhook_deliveries_source_body_sha256_received_at_idx" ON "webhook_deliveries"("source", "body_sha256", "received_at");
