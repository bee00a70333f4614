import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { WorkflowDefinitionSchema } from '@hangar/contracts';
import { DEFAULT_PROJECT_ID, WorkflowRepository, WorkflowRunRepository, type PrismaClient } from '@hangar/db';
import { redisUrl } from '@hangar/testing';
import { AppModule } from '../src/app.module';
import { OrchestratorConfigSchema } from '../src/config';
import { ReconcilerService } from '../src/modules/scheduling/reconciler.service';

// The real orchestrator module on a test database and Redis prefix, its periodic passes an hour
// away (a test calls them), its logs silent; `env` sets more of its configuration.
export async function startOrchestrator(
  databaseUrl: string,
  prefix: string,
  env: Record<string, string> = {},
): Promise<INestApplicationContext> {
  const config = OrchestratorConfigSchema.parse({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl(),
    HANGAR_REDIS_PREFIX: prefix,
    RECONCILE_INTERVAL_MS: '3600000',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: false });
  await app.init();
  // Its pass at start admits and routes what waits: a test's own tasks come after it.
  await app.get(ReconcilerService).idle();
  return app;
}

let runNames = 0;
// A run of a new workflow (named for the test) in the default project, as the gateway starts one:
// RUNNING, nothing decided yet. Answers its id.
export async function createRun(
  prisma: PrismaClient,
  definition: unknown,
  inputs: Record<string, unknown> = {},
): Promise<string> {
  const parsed = WorkflowDefinitionSchema.parse({ name: `wf-${++runNames}`, ...(definition as object) });
  const workflow = await new WorkflowRepository(prisma).create(DEFAULT_PROJECT_ID, parsed, 'test');
  return new WorkflowRunRepository(prisma).create({
    workflowId: workflow.id,
    version: 1,
    projectId: DEFAULT_PROJECT_ID,
    inputs,
    deadlineAt: null,
    createdBy: 'test',
  });
}
