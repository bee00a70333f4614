import { z } from 'zod';

// Routing (docs/routing.md): runners say what they offer; a task may require labels; the
// orchestrator puts each task on the queue of a runner pool that satisfies it, by a strategy.

// A label a runner offers and a task may require: a name (`gpu`, `large`) or a name=value
// (`region=eu`). Every runner also offers `pool=<its pool>` and `executor=<process|kubernetes>`.
export const RunnerLabelSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._/-]{0,62}(=[A-Za-z0-9][A-Za-z0-9._/-]{0,62})?$/,
    'must be a label: a name of lowercase letters, digits, . _ / - (at most 63), optionally =value',
  );
export const RequiresSchema = z
  .array(RunnerLabelSchema)
  .max(16, 'must name at most 16 labels')
  .transform((labels) => [...new Set(labels)].sort());

// The runners' pool unless RUNNER_POOL says, and where tasks go while no runner has registered.
export const DEFAULT_POOL = 'default';

export const PoolNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a pool name: lowercase letters, digits and - (at most 63)');

export const ROUTING_STRATEGIES = ['round-robin', 'least-loaded', 'capability', 'performance'] as const;
export const RoutingStrategySchema = z.enum(ROUTING_STRATEGIES);
export type RoutingStrategy = z.infer<typeof RoutingStrategySchema>;

export const RUNNER_EXECUTORS = ['process', 'kubernetes'] as const;
export const RunnerExecutorSchema = z.enum(RUNNER_EXECUTORS);
export type RunnerExecutor = z.infer<typeof RunnerExecutorSchema>;
