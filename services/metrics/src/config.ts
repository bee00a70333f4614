import { hostname } from 'node:os';
import { z } from 'zod';
import { baseServiceEnv, listOf, optionalUrl, port, positiveInt, secret } from '@hangar/config';
import { parseAllowedHost, type AllowedHost } from '@hangar/egress';

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
  METRICS_BATCH_SIZE: positiveInt(2000, 'records stored per transaction'),
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
  ALERTS_EVALUATE_SECONDS: positiveInt(30, 'seconds between evaluations of the alert rules'),
  ALERTS_NOTIFY_ATTEMPTS: positiveInt(6, 'tries of a notification to a target before it is marked failed'),
  ALERTS_RETRY_SECONDS: positiveInt(
    5,
    'seconds before the first retry of a notification a target refused (then doubling)',
  ),
  ALERTS_ALLOWED_HOSTS: listOf<AllowedHost>(parseAllowedHost, '').describe(
    'hosts (host or host:port) alert targets may name although they resolve to a private, loopback or other internal address: your Alertmanager, an in-house webhook',
  ),
  ALERTS_NOTIFY_TIMEOUT_SECONDS: positiveInt(10, 'seconds a target has to answer a notification'),
  ALERTS_ALERTMANAGER_RESEND_SECONDS: positiveInt(
    60,
    "seconds between sends of a firing alert to Alertmanager targets (keep it below Alertmanager's resolve_timeout)",
  ),
  ALERTS_SMTP_URL: secret(
    z
      .string()
      .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL')
      .optional()
      .or(z.literal('').transform(() => undefined))
      .describe(
        'the SMTP server e-mail targets are sent through (smtp://user:pass@host:587); e-mail targets fail without it',
      ),
  ),
  ALERTS_SMTP_FROM: z
    .string()
    .min(3)
    .max(320)
    .default('hangar@localhost')
    .describe('the From of alert e-mails'),
  ANOMALY_MIN_TASKS: positiveInt(20, "tasks of a profile's baseline before it can call one an anomaly"),
  ANOMALY_BASELINE_TASKS: positiveInt(200, "a profile's latest tasks its baseline is made of"),
  ANOMALY_WINDOW_DAYS: positiveInt(30, "days back a profile's baseline looks"),
  ANOMALY_SCORE: positiveInt(
    6,
    'how many robust standard deviations (1.4826 × MAD) above the median a task must be',
  ),
  ANOMALY_MIN_RATIO: positiveInt(3, 'and how many times the median, at least'),
  ANOMALY_MIN_HOURS: positiveInt(
    24,
    "hours with tasks in a profile's history before an hour of it can be an anomaly",
  ),
  ANOMALY_HOUR_MIN_TASKS: positiveInt(
    10,
    'tasks that completed or failed an hour must have to be judged on its failure rate',
  ),
  ANOMALY_HOUR_CHECK_SECONDS: positiveInt(300, 'seconds between looks at the last whole hours for anomalies'),
});
export type MetricsConfig = z.infer<typeof MetricsConfigSchema>;

export const METRICS_CONFIG = Symbol('METRICS_CONFIG');
