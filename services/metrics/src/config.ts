import { hostname } from 'node:os';
import { z } from 'zod';
import { baseServiceEnv, optionalUrl, port, positiveInt } from '@hangar/config';

export const MetricsConfigSchema = z.object({
  ...baseServiceEnv,
  METRICS_PORT: port(4009, 'the metrics service (health and metrics)'),
  METRICS_CONSUMER: z
    .string()
    .min(1)
    .max(200)
    .default(hostname())
    .describe(
      "this replica's name in the records' consumer group; keep it across restarts (a pod's name), so a restarted replica stores first what it had read and not stored",
    ),
  METRICS_BATCH_SIZE: positiveInt(500, 'records stored per statement'),
  METRICS_CLAIM_IDLE_SECONDS: positiveInt(
    60,
    'seconds a record read by another replica may stay unstored before this one takes it over',
  ),
  METRICS_RECONCILE_SECONDS: positiveInt(
    60,
    'seconds between passes that sample ended tasks whose record never arrived',
  ),
  METRICS_RECONCILE_GRACE_SECONDS: positiveInt(
    60,
    'seconds an ended task may wait for its record before the reconciler samples it from PostgreSQL',
  ),
  METRICS_RECONCILE_LOOKBACK_HOURS: positiveInt(
    48,
    'how far back (by creation) the reconciler looks for ended tasks without a sample',
  ),
  METRICS_OTLP_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must be a size such as 512kb or 4mb')
    .default('4mb')
    .describe('largest OTLP request body accepted'),
  METRICS_OTLP_FORWARD_URL: optionalUrl(
    'an OTLP/HTTP endpoint (Jaeger: http://jaeger:4318) the traces received are forwarded to; none when unset',
  ),
  METRICS_RETENTION_DAYS: positiveInt(90, 'days task samples are kept'),
  METRICS_MINUTE_ROLLUP_DAYS: positiveInt(14, 'days per-minute rollups are kept'),
  METRICS_HOUR_ROLLUP_DAYS: positiveInt(400, 'days per-hour rollups are kept (per-day ones are kept)'),
});
export type MetricsConfig = z.infer<typeof MetricsConfigSchema>;

export const METRICS_CONFIG = Symbol('METRICS_CONFIG');
