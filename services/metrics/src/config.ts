import { z } from 'zod';
import { baseServiceEnv, port } from '@hangar/config';

export const MetricsConfigSchema = z.object({
  ...baseServiceEnv,
  METRICS_PORT: port(4009, 'the metrics service (health and metrics)'),
});
export type MetricsConfig = z.infer<typeof MetricsConfigSchema>;
