import { z } from 'zod';
import { ProfileNameSchema } from './task';

// Alerts (docs/alerts.md): rules on the series below, stored per project or for the
// installation, evaluated by the metrics service; a rule that holds for its for-duration fires,
// and its notification targets hear of it (and of its resolution) unless it is silenced.

// The series a rule can watch, each over the rule's window (the last `windowMinutes`, read from
// the per-minute rollups of ended tasks, or the state now), within the rule's project (or every
// project, for the installation's) and, when the rule names one, its profile.
export const ALERT_SERIES = {
  'task.failure_rate': {
    unit: 'ratio',
    max: 1,
    help: 'failed ÷ ended tasks in the window (0 when none ended)',
  },
  'task.failed': { unit: 'tasks', help: 'tasks that failed in the window' },
  'task.ended': { unit: 'tasks', help: 'tasks that ended in the window' },
  'task.cost_usd': { unit: 'USD', help: 'what the tasks that ended in the window cost' },
  'task.tokens': { unit: 'tokens', help: 'tokens (every kind) of the tasks that ended in the window' },
  'task.queue_wait_p95_seconds': {
    unit: 'seconds',
    help: "95th percentile of the window's tasks' wait from creation to start (0 when none)",
  },
  'task.run_p95_seconds': {
    unit: 'seconds',
    help: "95th percentile of the window's tasks' run time, start to end (0 when none)",
  },
  'anomaly.count': { unit: 'anomalies', help: 'anomalies found in the window (docs/alerts.md#anomalies)' },
  'runner.live': {
    unit: 'runners',
    help: 'runners that registered in the last minute now (installation rules only; a runner gone: below)',
  },
  'budget.used_percent': {
    unit: 'percent',
    help: 'the highest share of its limit a budget of the project (or installation) has spent in its period now',
  },
} as const satisfies Record<string, { unit: string; help: string; max?: number }>;
export type AlertSeries = keyof typeof ALERT_SERIES;
export const ALERT_SERIES_NAMES = Object.keys(ALERT_SERIES) as [AlertSeries, ...AlertSeries[]];

export const AlertSeveritySchema = z.enum(['info', 'warning', 'critical']);
export type AlertSeverity = z.infer<typeof AlertSeveritySchema>;
export const AlertComparatorSchema = z.enum(['>', '>=', '<', '<=']);
export type AlertComparator = z.infer<typeof AlertComparatorSchema>;

export function alertHolds(comparator: AlertComparator, value: number, threshold: number): boolean {
  if (comparator === '>') return value > threshold;
  if (comparator === '>=') return value >= threshold;
  if (comparator === '<') return value < threshold;
  return value <= threshold;
}

const Id = z.string().trim().min(1).max(64);

export const CreateAlertRuleSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(120),
    series: z.string().superRefine((series, context) => {
      if (!(series in ALERT_SERIES))
        context.addIssue({
          code: 'custom',
          message: `unknown series "${series}"; one of ${ALERT_SERIES_NAMES.join(', ')}`,
        });
    }),
    comparator: AlertComparatorSchema.default('>'),
    threshold: z.number().finite().min(0).max(1e12),
    windowMinutes: z.number().int().min(1).max(1440).default(60),
    // How long the rule must hold, evaluation after evaluation, before it fires.
    forSeconds: z.number().int().min(0).max(86_400).default(0),
    severity: AlertSeveritySchema.default('warning'),
    // Only this profile's tasks (task and anomaly series).
    profile: ProfileNameSchema.optional(),
    // The installation's rule (every project; instance administrators), not the project's.
    installation: z.boolean().default(false),
    // Notification targets (their ids) told when it fires and when it resolves.
    targets: z.array(Id).max(20).default([]),
    enabled: z.boolean().default(true),
  })
  .superRefine((rule, context) => {
    const series = ALERT_SERIES[rule.series as AlertSeries] as { max?: number } | undefined;
    if (series?.max !== undefined && rule.threshold > series.max)
      context.addIssue({
        code: 'custom',
        path: ['threshold'],
        message: `${rule.series} is at most ${series.max}; the threshold ${rule.threshold} could never be crossed`,
      });
    if (rule.series === 'runner.live' && !rule.installation)
      context.addIssue({
        code: 'custom',
        path: ['series'],
        message: 'runner.live is the installation\'s: give "installation": true',
      });
    if (new Set(rule.targets).size !== rule.targets.length)
      context.addIssue({ code: 'custom', path: ['targets'], message: 'a target is named twice' });
  });
export type CreateAlertRuleRequest = z.infer<typeof CreateAlertRuleSchema>;

export const AlertStateSchema = z.enum(['inactive', 'pending', 'firing']);
export type AlertState = z.infer<typeof AlertStateSchema>;

export const AlertRuleSchema = z.object({
  id: z.string(),
  // The project's slug (null: the installation's).
  project: z.string().nullable(),
  name: z.string(),
  series: z.enum(ALERT_SERIES_NAMES),
  comparator: AlertComparatorSchema,
  threshold: z.number(),
  windowMinutes: z.number().int(),
  forSeconds: z.number().int(),
  severity: AlertSeveritySchema,
  profile: z.string().nullable(),
  targets: z.array(z.string()),
  enabled: z.boolean(),
  // What the last evaluation found: the state, since when, the value.
  state: AlertStateSchema,
  stateSince: z.string().nullable(),
  value: z.number().nullable(),
  evaluatedAt: z.string().nullable(),
  createdAt: z.string(),
});
export type AlertRule = z.infer<typeof AlertRuleSchema>;
export const AlertRuleListSchema = z.object({ items: z.array(AlertRuleSchema) });

// Where notifications go. A webhook's body is signed with its secret (HMAC-SHA256,
// `x-hangar-signature-256`); e-mail goes through the metrics service's ALERTS_SMTP_URL.
const HttpUrl = z
  .string()
  .trim()
  .max(2000)
  .url()
  .refine((url) => /^https?:\/\//i.test(url), 'must be an http(s) URL');
export const ALERT_TARGET_KINDS = ['slack', 'webhook', 'email', 'alertmanager'] as const;
export const CreateAlertTargetSchema = z
  .strictObject({
    kind: z.enum(ALERT_TARGET_KINDS),
    name: z.string().trim().min(1).max(120),
    // Slack's incoming-webhook URL; the webhook's URL; Alertmanager's base URL
    // (http://alertmanager:9093: alerts are posted to its /api/v2/alerts).
    url: HttpUrl.optional(),
    // A webhook's signing secret.
    secret: z.string().min(16).max(200).optional(),
    // An e-mail target's recipients.
    to: z.array(z.string().trim().email().max(320)).min(1).max(20).optional(),
  })
  .superRefine((target, context) => {
    const issue = (path: string, message: string) =>
      context.addIssue({ code: 'custom', path: [path], message });
    const a = target.kind === 'alertmanager' ? 'an' : 'a';
    if (target.kind === 'email') {
      if (target.to === undefined) issue('to', 'an email target names its recipients');
      if (target.url !== undefined) issue('url', 'an email target has no url');
    } else {
      if (target.url === undefined) issue('url', `${a} ${target.kind} target needs its url`);
      if (target.to !== undefined) issue('to', `${a} ${target.kind} target has no recipients`);
    }
    if (target.secret !== undefined && target.kind !== 'webhook')
      issue('secret', 'only a webhook target is signed');
  });
export type CreateAlertTargetRequest = z.infer<typeof CreateAlertTargetSchema>;
export type AlertTargetKind = (typeof ALERT_TARGET_KINDS)[number];

export const AlertTargetSchema = z.object({
  id: z.string(),
  project: z.string().nullable(),
  kind: z.enum(ALERT_TARGET_KINDS),
  name: z.string(),
  // Where it goes (a Slack URL is shown to its origin only: it is a credential).
  destination: z.string(),
  signed: z.boolean(),
  createdAt: z.string(),
});
export type AlertTarget = z.infer<typeof AlertTargetSchema>;
export const AlertTargetListSchema = z.object({ items: z.array(AlertTargetSchema) });

// A silence: the rule (or every rule of the project / installation) sends nothing from now
// until it ends; what fires meanwhile is still stored, marked silenced.
export const CreateAlertSilenceSchema = z.strictObject({
  rule: Id.optional(),
  installation: z.boolean().default(false),
  minutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 90),
  comment: z.string().trim().max(500).default(''),
});
export type CreateAlertSilenceRequest = z.infer<typeof CreateAlertSilenceSchema>;

export const AlertSilenceSchema = z.object({
  id: z.string(),
  project: z.string().nullable(),
  rule: z.string().nullable(),
  startsAt: z.string(),
  endsAt: z.string(),
  comment: z.string(),
  createdBy: z.string(),
});
export type AlertSilence = z.infer<typeof AlertSilenceSchema>;
export const AlertSilenceListSchema = z.object({ items: z.array(AlertSilenceSchema) });

export const NotificationStatusSchema = z.enum(['pending', 'sent', 'failed']);

// What a firing says of its rule and itself: the rule's id and name, its project (null: the
// installation's), the condition, the value it fired with, when it fired and resolved.
const FiredAlertSchema = z.object({
  rule: z.string(),
  name: z.string(),
  project: z.string().nullable(),
  series: z.string(),
  severity: AlertSeveritySchema,
  comparator: AlertComparatorSchema,
  threshold: z.number(),
  value: z.number(),
  firedAt: z.string(),
  resolvedAt: z.string().nullable(),
});

// A rule's firing: from when it fired to when it resolved, with what each target was sent.
export const AlertFiringSchema = FiredAlertSchema.extend({
  id: z.string(),
  silenced: z.boolean(),
  notifications: z.array(
    z.object({
      target: z.string(),
      event: z.enum(['firing', 'resolved']),
      status: NotificationStatusSchema,
      attempts: z.number().int(),
      lastError: z.string().nullable(),
      sentAt: z.string().nullable(),
    }),
  ),
});
export type AlertFiring = z.infer<typeof AlertFiringSchema>;
export const AlertFiringListSchema = z.object({ items: z.array(AlertFiringSchema) });

// What a webhook target receives (JSON): the alerts of one evaluation that fired or resolved,
// grouped by target.
export const AlertNotificationSchema = z.object({
  kind: z.literal('alerts'),
  status: z.enum(['firing', 'resolved']),
  at: z.string(),
  alerts: z.array(FiredAlertSchema.extend({ firing: z.string() })),
});
export type AlertNotification = z.infer<typeof AlertNotificationSchema>;

// Anomalies (docs/alerts.md#anomalies): a task far outside its profile's baseline on one of
// its measures, or an hour of a profile's tasks far outside its usual hours (`hour_*`).
export const TASK_ANOMALY_METRICS = ['cost_usd', 'run_seconds', 'tool_calls'] as const;
export const HOUR_ANOMALY_METRICS = ['hour_failure_rate', 'hour_cost_usd'] as const;
export const ANOMALY_METRICS = [...TASK_ANOMALY_METRICS, ...HOUR_ANOMALY_METRICS] as const;
export const AnomalySchema = z.object({
  id: z.string(),
  // The task, for a task's anomaly; null for an hour's.
  taskId: z.string().nullable(),
  // The hour's start, for an hour's anomaly; null for a task's.
  hour: z.string().nullable(),
  project: z.string(),
  profile: z.string(),
  metric: z.enum(ANOMALY_METRICS),
  value: z.number(),
  // The baseline: the median of the profile's recent tasks (hours) and their median absolute deviation.
  median: z.number(),
  mad: z.number(),
  // How far out: (value − median) ÷ (1.4826 × MAD), or value ÷ median when MAD is 0.
  score: z.number(),
  // The tasks (for an hour's anomaly: the hours) the baseline was made of.
  baselineTasks: z.number().int(),
  // When the task ended; the end of the hour.
  at: z.string(),
});
export type Anomaly = z.infer<typeof AnomalySchema>;
export const AnomalyListSchema = z.object({ items: z.array(AnomalySchema) });
export type AnomalyList = z.infer<typeof AnomalyListSchema>;
