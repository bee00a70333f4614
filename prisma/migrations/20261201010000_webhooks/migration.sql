-- CreateTable
CREATE TABLE "webhook_configs" (
    "id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "credentials" JSONB NOT NULL DEFAULT '{}',
    "api_url" TEXT,
    "prefix" TEXT NOT NULL DEFAULT '@hangar',
    "commands" JSONB NOT NULL DEFAULT '[]',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "webhook_configs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "config_id" TEXT,
    "project_id" TEXT,
    "provider" TEXT NOT NULL,
    "delivery_id" TEXT NOT NULL,
    "event" TEXT,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "command" TEXT,
    "task_id" TEXT,
    "conversation_id" TEXT,
    "payload" JSONB,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_threads" (
    "source" TEXT NOT NULL,
    "thread_key" TEXT NOT NULL,
    "conversation_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_threads_pkey" PRIMARY KEY ("source","thread_key")
);

-- CreateTable
CREATE TABLE "webhook_replies" (
    "task_id" TEXT NOT NULL,
    "delivery_id" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "target" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_replies_pkey" PRIMARY KEY ("task_id")
);

-- CreateIndex
CREATE INDEX "webhook_configs_project_id_idx" ON "webhook_configs"("project_id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_project_id_received_at_idx" ON "webhook_deliveries"("project_id", "received_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_received_at_idx" ON "webhook_deliveries"("status", "received_at");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_source_delivery_id_key" ON "webhook_deliveries"("source", "delivery_id");

-- CreateIndex
CREATE INDEX "webhook_replies_status_created_at_idx" ON "webhook_replies"("status", "created_at");

-- AddForeignKey
ALTER TABLE "webhook_configs" ADD CONSTRAINT "webhook_configs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
