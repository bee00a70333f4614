-- AlterTable
ALTER TABLE "agent_profiles" ADD COLUMN     "agent_files" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "max_output_bytes" INTEGER,
ADD COLUMN     "mcp_servers" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "skill_files" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "base_commit" TEXT,
ADD COLUMN     "branch" TEXT,
ADD COLUMN     "push" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "pushed_at" TIMESTAMPTZ(3),
ADD COLUMN     "repository" TEXT,
ADD COLUMN     "repository_ref" TEXT;

-- AlterTable
ALTER TABLE "conversations" ADD COLUMN     "repository" TEXT,
ADD COLUMN     "repository_ref" TEXT;

-- CreateTable
CREATE TABLE "task_diffs" (
    "task_id" TEXT NOT NULL,
    "unified_diff" TEXT NOT NULL,
    "truncated" BOOLEAN NOT NULL DEFAULT false,
    "files" JSONB NOT NULL,
    "lines_added" INTEGER NOT NULL,
    "lines_removed" INTEGER NOT NULL,
    "commit" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "task_diffs_pkey" PRIMARY KEY ("task_id")
);

-- CreateTable
CREATE TABLE "conversation_sessions" (
    "conversation_id" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "relative_path" TEXT NOT NULL,
    "transcript" BYTEA NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "conversation_sessions_pkey" PRIMARY KEY ("conversation_id")
);

-- AddForeignKey
ALTER TABLE "task_diffs" ADD CONSTRAINT "task_diffs_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_sessions" ADD CONSTRAINT "conversation_sessions_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
