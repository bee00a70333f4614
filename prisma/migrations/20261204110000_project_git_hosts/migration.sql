-- CreateTable
CREATE TABLE "project_git_hosts" (
    "project_id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "username" TEXT,
    "token" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "project_git_hosts_pkey" PRIMARY KEY ("project_id","host")
);

-- AddForeignKey
ALTER TABLE "project_git_hosts" ADD CONSTRAINT "project_git_hosts_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
