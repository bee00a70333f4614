import { z } from 'zod';
import { RoutingStrategySchema } from '@hangar/contracts';
import {
  baseServiceEnv,
  booleanFlag,
  nonNegativeInt,
  port,
  positiveInt,
  streamRetentionSeconds,
  taskMaxAttempts,
} from '@hangar/config';

export const OrchestratorConfigSchema = z.object({
  ...baseServiceEnv,
  ORCHESTRATOR_PORT: port(4007, 'the orchestrator (health and metrics)'),
  RECONCILE_INTERVAL_MS: positiveInt(
    5000,
    'how often QUEUED tasks are re-enqueued and lost runners looked for',
  ),
  RUNNER_HEARTBEAT_TIMEOUT_MS: positiveInt(
    30_000,
    'a RUNNING task whose runner has not reported for this long is lost',
  ),
  TASK_MAX_ATTEMPTS: taskMaxAttempts(),
  MAX_ACTIVE_TASKS_PER_PROJECT: nonNegativeInt(
    0,
    "a project's tasks queued for a runner or running at once; the rest wait their turn (0: no limit)",
  ),
  ROUTING_STRATEGY: RoutingStrategySchema.default('least-loaded').describe(
    'how tasks are routed among the runner pools that offer what they require, unless their project or workflow says (docs/routing.md): round-robin, least-loaded, capability or performance',
  ),
  WORKFLOW_CONCURRENCY: positiveInt(
    8,
    "workflow messages the engine handles at once, from its queue and, as many again, steps' ends heard from PostgreSQL",
  ),
  WORKFLOW_LISTEN: booleanFlag(
    true,
    "hear workflow steps' task ends from PostgreSQL as they commit (LISTEN; needs a session connection, not a transaction pooler), one orchestrator at a time; their jobs decide them otherwise",
  ),
  WORKFLOW_LISTEN_RETRY_MS: positiveInt(
    5000,
    'how often an orchestrator that does not listen (another does, or PostgreSQL refused) tries again',
  ),
  // A task the reconciler fails keeps its stream this long, as one its runner ended does.
  STREAM_RETENTION_SECONDS: streamRetentionSeconds(),
});
export type OrchestratorConfig = z.infer<typeof OrchestratorConfigSchema>;
export const ORCHESTRATOR_CONFIG = Symbol('ORCHESTRATOR_CONFIG');
