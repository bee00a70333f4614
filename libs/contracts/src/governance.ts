import { z } from 'zod';

// What a task's model calls used so far, as the model gateway metered them while it ran
// (docs/governance.md): how many calls, their tokens by kind (input without cache reads and
// writes), and their cost. `unpricedCalls` of them have no cost (their answer said no usage, or
// the price table has no price for their model): the cost is then a floor, never a guess.
export const ModelUsageSchema = z.object({
  taskId: z.string(),
  calls: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  costUsd: z.number(),
  unpricedCalls: z.number().int(),
});
export type ModelUsage = z.infer<typeof ModelUsageSchema>;
