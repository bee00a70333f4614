import {
  ALERT_SERIES,
  HangarError,
  type AlertComparator,
  type AlertFiring,
  type AlertRule,
  type AlertSeries,
  type AlertSeverity,
  type AlertSilence,
  type AlertState,
  type AlertTarget,
  type AlertTargetKind,
  type Anomaly,
  type CreateAlertTargetRequest,
} from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { Sql, SqlTransaction } from '../sql';

// A target's settings as stored (its secret stays here: views say only `signed`).
export type AlertTargetConfig = { url?: string; secret?: string; to?: string[] };

export type AnomalyMetric = Anomaly['metric'];

// An anomaly as the detectors find it: a task's (no hour) or an hour's (no task).
export type NewAnomaly = Omit<Anomaly, 'id' | 'at' | 'hour' | 'taskId'> &
  ({ taskId: string; hour?: undefined } | { taskId: null; hour: Date }) & { at: Date };

// A project's profile's hour: its tasks that completed or failed, the failed, what all cost.
export interface HourSums {
  project: string;
  profile: string;
  hourMs: number;
  judged: number;
  failed: number;
  costUsd: number;
}

// What makes an anomaly once: its task and metric, or its names, metric and hour.
function anomalyKey(a: {
  taskId: string | null;
  hour?: Date;
  project: string;
  profile: string;
  metric: string;
}): string {
  return a.taskId !== null
    ? `task\u0000${a.taskId}\u0000${a.metric}`
    : `hour\u0000${a.project}\u0000${a.profile}\u0000${a.metric}\u0000${a.hour?.getTime() ?? ''}`;
}

// A project's profile's baseline on one metric (docs/alerts.md#anomalies).
export interface Baseline {
  project: string;
  profile: string;
  metric: AnomalyMetric;
  median: number;
  mad: number;
  tasks: number;
}

// A rule as the metrics service evaluates it.
export interface EvaluatedRule {
  id: string;
  projectId: string | null;
  project: string | null;
  name: string;
  series: AlertSeries;
  comparator: AlertComparator;
  threshold: number;
  windowMinutes: number;
  forSeconds: number;
  severity: AlertSeverity;
  profile: string | null;
  state: AlertState;
  stateSince: Date | null;
  targetIds: string[];
  // Its open firing, if it fires.
  firing: { id: string; silenced: boolean; resentAt: Date | null; firedAt: Date } | null;
  // Under a silence now.
  silenced: boolean;
}

// What one evaluation found of one rule.
export interface RuleOutcome {
  rule: EvaluatedRule;
  value: number;
  holds: boolean;
}

// A notification to deliver, with what it says.
export interface DueNotification {
  id: string;
  event: 'firing' | 'resolved';
  attempts: number;
  target: { id: string; kind: AlertTargetKind; name: string; config: AlertTargetConfig };
  alerts: {
    firing: string;
    rule: string;
    name: string;
    project: string | null;
    series: string;
    severity: AlertSeverity;
    comparator: AlertComparator;
    threshold: number;
    value: number;
    firedAt: Date;
    resolvedAt: Date | null;
  }[];
}

// Rules, targets, silences, firings, notifications and anomalies (docs/alerts.md). The
// gateway makes and lists them (Prisma); the metrics service evaluates and delivers
// (node-postgres, `Sql`: one transaction per evaluation, leases on notifications).
export class AlertStore {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  // --- rules ---

  async createRule(input: {
    projectId: string | null;
    name: string;
    series: AlertSeries;
    comparator: AlertComparator;
    threshold: number;
    windowMinutes: number;
    forSeconds: number;
    severity: AlertSeverity;
    profile: string | null;
    enabled: boolean;
    targetIds: string[];
    createdBy: string;
  }): Promise<AlertRule> {
    const { targetIds, ...rule } = input;
    const row = await this.prisma.alertRule.create({
      data: { ...rule, targets: { create: targetIds.map((targetId) => ({ targetId })) } },
      include: RULE_INCLUDE,
    });
    return ruleView(row);
  }

  // The installation's rules and those of `projectIds`.
  async listRules(projectIds: readonly string[]): Promise<AlertRule[]> {
    const rows = await this.prisma.alertRule.findMany({
      where: { OR: [{ projectId: null }, { projectId: { in: [...projectIds] } }] },
      include: RULE_INCLUDE,
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(ruleView);
  }

  async rule(id: string): Promise<{ view: AlertRule; projectId: string | null } | null> {
    const row = await this.prisma.alertRule.findUnique({ where: { id }, include: RULE_INCLUDE });
    return row ? { view: ruleView(row), projectId: row.projectId } : null;
  }

  async deleteRule(id: string): Promise<void> {
    await this.prisma.alertRule.deleteMany({ where: { id } });
  }

  // --- targets ---

  async createTarget(input: {
    projectId: string | null;
    target: CreateAlertTargetRequest;
    createdBy: string;
  }): Promise<AlertTarget> {
    const { kind, name, ...settings } = input.target;
    const config = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
    const row = await this.prisma.alertTarget.create({
      data: { projectId: input.projectId, kind, name, config, createdBy: input.createdBy },
      include: { project: { select: { slug: true } } },
    });
    return targetView(row);
  }

  async listTargets(projectIds: readonly string[]): Promise<AlertTarget[]> {
    const rows = await this.prisma.alertTarget.findMany({
      where: { OR: [{ projectId: null }, { projectId: { in: [...projectIds] } }] },
      include: { project: { select: { slug: true } } },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(targetView);
  }

  // Each target's project (null: the installation's), of those of `ids` that exist.
  async targetProjects(ids: readonly string[]): Promise<Map<string, string | null>> {
    const rows = await this.prisma.alertTarget.findMany({
      where: { id: { in: [...ids] } },
      select: { id: true, projectId: true },
    });
    return new Map(rows.map((row) => [row.id, row.projectId]));
  }

  async deleteTarget(id: string): Promise<void> {
    await this.prisma.alertTarget.deleteMany({ where: { id } });
  }

  // --- silences ---

  async createSilence(input: {
    projectId: string | null;
    ruleId: string | null;
    endsAt: Date;
    comment: string;
    createdBy: string;
  }): Promise<AlertSilence> {
    const row = await this.prisma.alertSilence.create({
      data: input,
      include: { project: { select: { slug: true } } },
    });
    return silenceView(row);
  }

  // Silences not ended, of the installation and `projectIds`.
  async listSilences(projectIds: readonly string[], now = new Date()): Promise<AlertSilence[]> {
    const rows = await this.prisma.alertSilence.findMany({
      where: {
        endsAt: { gt: now },
        OR: [{ projectId: null }, { projectId: { in: [...projectIds] } }],
      },
      include: { project: { select: { slug: true } } },
      orderBy: { startsAt: 'asc' },
    });
    return rows.map(silenceView);
  }

  async silence(id: string): Promise<{ view: AlertSilence; projectId: string | null } | null> {
    const row = await this.prisma.alertSilence.findUnique({
      where: { id },
      include: { project: { select: { slug: true } } },
    });
    return row ? { view: silenceView(row), projectId: row.projectId } : null;
  }

  // Ends a silence now (kept, as a record of when rules were quiet).
  async endSilence(id: string, now = new Date()): Promise<void> {
    await this.prisma.alertSilence.updateMany({ where: { id, endsAt: { gt: now } }, data: { endsAt: now } });
  }

  // --- firings ---

  // The latest firings of the installation's rules and of `projectIds`', newest first, with
  // what each target was sent.
  async listFirings(projectIds: readonly string[], limit = 100): Promise<AlertFiring[]> {
    const firings = await this.prisma.alertFiring.findMany({
      where: { rule: { OR: [{ projectId: null }, { projectId: { in: [...projectIds] } }] } },
      include: { rule: { include: { project: { select: { slug: true } } } } },
      orderBy: { firedAt: 'desc' },
      take: limit,
    });
    const notifications = await this.prisma.alertNotification.findMany({
      where: { firingIds: { hasSome: firings.map((firing) => firing.id) } },
      include: { target: { select: { name: true } } },
      orderBy: { createdAt: 'asc' },
    });
    return firings.map((firing) => ({
      id: firing.id,
      rule: firing.ruleId,
      name: firing.rule.name,
      project: firing.rule.project?.slug ?? null,
      series: firing.rule.series,
      severity: firing.rule.severity as AlertSeverity,
      comparator: firing.rule.comparator as AlertComparator,
      threshold: firing.rule.threshold,
      value: firing.value,
      firedAt: firing.firedAt.toISOString(),
      resolvedAt: firing.resolvedAt?.toISOString() ?? null,
      silenced: firing.silenced,
      notifications: notifications
        .filter((notification) => notification.firingIds.includes(firing.id))
        .map((notification) => ({
          target: notification.target.name,
          event: notification.event as 'firing' | 'resolved',
          status: notification.status as 'pending' | 'sent' | 'failed',
          attempts: notification.attempts,
          lastError: notification.lastError,
          sentAt: notification.sentAt?.toISOString() ?? null,
        })),
    }));
  }

  // --- evaluation (the metrics service) ---

  // Runs `work` as the only evaluation in the installation (a transaction-scoped advisory lock:
  // another replica's pass skips); null when another holds it.
  async exclusively<T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T | null> {
    return this.sql.transaction(async (tx) => {
      const [lock] = await tx.query<{ locked: boolean }>(
        Prisma.sql`SELECT pg_try_advisory_xact_lock(hashtext('hangar.alerts.evaluate')) AS locked`,
      );
      return lock!.locked ? work(tx) : null;
    });
  }

  // The enabled rules, with their targets, open firing and whether a silence covers them now.
  async enabledRules(tx: SqlTransaction, now: Date): Promise<EvaluatedRule[]> {
    const rows = await tx.query<{
      id: string;
      project_id: string | null;
      project: string | null;
      name: string;
      series: string;
      comparator: string;
      threshold: number;
      window_minutes: number;
      for_seconds: number;
      severity: string;
      profile: string | null;
      state: string;
      state_since: Date | null;
      target_ids: string[];
      firing_id: string | null;
      firing_silenced: boolean | null;
      firing_resent_at: Date | null;
      firing_fired_at: Date | null;
      silenced: boolean;
    }>(Prisma.sql`
      SELECT r.id, r.project_id, p.slug AS project, r.name, r.series, r.comparator, r.threshold,
             r.window_minutes, r.for_seconds, r.severity, r.profile, r.state, r.state_since,
             coalesce((SELECT array_agg(t.target_id ORDER BY t.target_id) FROM alert_rule_targets t
                        WHERE t.rule_id = r.id), '{}') AS target_ids,
             f.id AS firing_id, f.silenced AS firing_silenced, f.resent_at AS firing_resent_at,
             f.fired_at AS firing_fired_at,
             EXISTS (SELECT 1 FROM alert_silences s
                      WHERE s.starts_at <= ${now} AND s.ends_at > ${now}
                        AND (s.rule_id = r.id
                             OR (s.rule_id IS NULL AND s.project_id IS NOT DISTINCT FROM r.project_id))) AS silenced
        FROM alert_rules r
        LEFT JOIN projects p ON p.id = r.project_id
        LEFT JOIN LATERAL (SELECT * FROM alert_firings f WHERE f.rule_id = r.id AND f.resolved_at IS NULL
                            ORDER BY f.fired_at DESC LIMIT 1) f ON true
       WHERE r.enabled
       ORDER BY r.created_at
       FOR UPDATE OF r`);
    return rows
      .filter((row) => row.series in ALERT_SERIES)
      .map((row) => ({
        id: row.id,
        projectId: row.project_id,
        project: row.project,
        name: row.name,
        series: row.series as AlertSeries,
        comparator: row.comparator as AlertComparator,
        threshold: row.threshold,
        windowMinutes: row.window_minutes,
        forSeconds: row.for_seconds,
        severity: row.severity as AlertSeverity,
        profile: row.profile,
        state: row.state as AlertState,
        stateSince: row.state_since,
        targetIds: row.target_ids,
        firing: row.firing_id
          ? {
              id: row.firing_id,
              silenced: row.firing_silenced!,
              resentAt: row.firing_resent_at,
              firedAt: row.firing_fired_at!,
            }
          : null,
        silenced: row.silenced,
      }));
  }

  // The sums over a rule's window of the per-minute rollups: tasks ended, failed, cost, tokens,
  // and the queue-wait and run-time histograms.
  async windowSums(
    tx: SqlTransaction,
    scope: { project: string | null; profile: string | null; from: Date },
  ): Promise<{
    ended: number;
    failed: number;
    costUsd: number;
    tokens: number;
    queueHist: number[];
    runHist: number[];
  }> {
    const [row] = await tx.query<{
      ended: string | null;
      failed: string | null;
      cost_usd: number | null;
      tokens: string | null;
      queue_hist: string[] | null;
      run_hist: string[] | null;
    }>(Prisma.sql`
      SELECT sum(tasks) AS ended, sum(tasks) FILTER (WHERE status = 'FAILED') AS failed,
             sum(cost_usd) AS cost_usd,
             sum(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens) AS tokens,
             hangar_sum_counts(queue_hist) AS queue_hist, hangar_sum_counts(run_hist) AS run_hist
        FROM task_rollups
       WHERE width = 'minute' AND bucket >= date_trunc('minute', ${scope.from}::timestamptz)
         AND (${scope.project}::text IS NULL OR project = ${scope.project})
         AND (${scope.profile}::text IS NULL OR profile = ${scope.profile})`);
    return {
      ended: Number(row?.ended ?? 0),
      failed: Number(row?.failed ?? 0),
      costUsd: row?.cost_usd ?? 0,
      tokens: Number(row?.tokens ?? 0),
      queueHist: (row?.queue_hist ?? []).map(Number),
      runHist: (row?.run_hist ?? []).map(Number),
    };
  }

  async anomalyCount(
    tx: SqlTransaction,
    scope: { project: string | null; profile: string | null; from: Date },
  ): Promise<number> {
    const [row] = await tx.query<{ count: string }>(Prisma.sql`
      SELECT count(*) AS count FROM anomalies
       WHERE at >= ${scope.from}
         AND (${scope.project}::text IS NULL OR project = ${scope.project})
         AND (${scope.profile}::text IS NULL OR profile = ${scope.profile})`);
    return Number(row?.count ?? 0);
  }

  // Keeps what an evaluation found: each rule's state and value; a firing opened for each rule
  // that fires now, closed for each that resolved; a notification per target and event for
  // the firings and resolutions that are not silenced (and, to Alertmanager targets, the
  // firings due to be sent again). Returns how many notifications were made.
  async record(
    tx: SqlTransaction,
    now: Date,
    outcomes: { rule: EvaluatedRule; value: number; state: AlertState; stateSince: Date | null }[],
    resendBefore: Date,
  ): Promise<{ fired: string[]; resolved: string[]; notifications: number }> {
    const fired: string[] = [];
    const resolved: string[] = [];
    const toSend = new Map<string, { firing: string[]; resolved: string[] }>();
    const add = (targetIds: string[], event: 'firing' | 'resolved', firingId: string) => {
      for (const target of targetIds) {
        const entry = toSend.get(target) ?? { firing: [], resolved: [] };
        entry[event].push(firingId);
        toSend.set(target, entry);
      }
    };
    const alertmanagers = new Set(
      (
        await tx.query<{ id: string }>(Prisma.sql`SELECT id FROM alert_targets WHERE kind = 'alertmanager'`)
      ).map((row) => row.id),
    );
    for (const { rule, value, state, stateSince } of outcomes) {
      await tx.query(Prisma.sql`
        UPDATE alert_rules SET state = ${state}, state_since = ${stateSince}, value = ${value}, evaluated_at = ${now}
         WHERE id = ${rule.id}`);
      if (state === 'firing' && !rule.firing) {
        const [opened] = await tx.query<{ id: string }>(Prisma.sql`
          INSERT INTO alert_firings (id, rule_id, value, fired_at, silenced, resent_at)
          VALUES (gen_random_uuid()::text, ${rule.id}, ${value}, ${now}, ${rule.silenced}, ${now}) RETURNING id`);
        fired.push(opened!.id);
        if (!rule.silenced) add(rule.targetIds, 'firing', opened!.id);
      } else if (state === 'firing' && rule.firing) {
        // Alertmanager forgets an alert not sent again within its resolve_timeout.
        const resend = rule.targetIds.filter((target) => alertmanagers.has(target));
        if (!rule.firing.silenced && resend.length > 0 && (rule.firing.resentAt ?? now) < resendBefore) {
          await tx.query(
            Prisma.sql`UPDATE alert_firings SET resent_at = ${now} WHERE id = ${rule.firing.id}`,
          );
          add(resend, 'firing', rule.firing.id);
        }
      } else if (state !== 'firing' && rule.firing) {
        await tx.query(
          Prisma.sql`UPDATE alert_firings SET resolved_at = ${now} WHERE id = ${rule.firing.id}`,
        );
        resolved.push(rule.firing.id);
        // A firing nobody heard of resolves quietly too.
        if (!rule.firing.silenced) add(rule.targetIds, 'resolved', rule.firing.id);
      }
    }
    let notifications = 0;
    for (const [target, events] of toSend) {
      for (const event of ['firing', 'resolved'] as const) {
        if (events[event].length === 0) continue;
        await tx.query(Prisma.sql`
          INSERT INTO alert_notifications (id, target_id, event, firing_ids, next_at, created_at)
          VALUES (gen_random_uuid()::text, ${target}, ${event}, ${events[event]}::text[], ${now}, ${now})`);
        notifications += 1;
      }
    }
    return { fired, resolved, notifications };
  }

  // --- delivery (the metrics service) ---

  // Up to `limit` pending notifications that are due, leased to the caller for `leaseMs` (a
  // replica that dies while sending leaves them to be sent again after it).
  async claimDue(now: Date, limit: number, leaseMs: number): Promise<DueNotification[]> {
    const claimed = await this.sql.query<{
      id: string;
      event: 'firing' | 'resolved';
      attempts: number;
      firing_ids: string[];
      target_id: string;
      kind: AlertTargetKind;
      target_name: string;
      config: AlertTargetConfig;
    }>(Prisma.sql`
      UPDATE alert_notifications n SET next_at = ${new Date(now.getTime() + leaseMs)}
        FROM alert_targets t
       WHERE t.id = n.target_id
         AND n.id IN (SELECT id FROM alert_notifications
                       WHERE status = 'pending' AND next_at <= ${now}
                       ORDER BY next_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING n.id, n.event, n.attempts, n.firing_ids, n.target_id, t.kind, t.name AS target_name, t.config`);
    if (claimed.length === 0) return [];
    const firingIds = [...new Set(claimed.flatMap((row) => row.firing_ids))];
    const firings = await this.sql.query<{
      id: string;
      rule_id: string;
      name: string;
      project: string | null;
      series: string;
      severity: AlertSeverity;
      comparator: AlertComparator;
      threshold: number;
      value: number;
      fired_at: Date;
      resolved_at: Date | null;
    }>(Prisma.sql`
      SELECT f.id, f.rule_id, r.name, p.slug AS project, r.series, r.severity, r.comparator, r.threshold,
             f.value, f.fired_at, f.resolved_at
        FROM alert_firings f JOIN alert_rules r ON r.id = f.rule_id LEFT JOIN projects p ON p.id = r.project_id
       WHERE f.id = ANY(${firingIds}::text[])`);
    const byId = new Map(firings.map((firing) => [firing.id, firing]));
    return claimed.map((row) => ({
      id: row.id,
      event: row.event,
      attempts: row.attempts,
      target: { id: row.target_id, kind: row.kind, name: row.target_name, config: row.config },
      alerts: row.firing_ids
        .map((id) => byId.get(id))
        .filter((firing) => firing !== undefined)
        .map((firing) => ({
          firing: firing.id,
          rule: firing.rule_id,
          name: firing.name,
          project: firing.project,
          series: firing.series,
          severity: firing.severity,
          comparator: firing.comparator,
          threshold: firing.threshold,
          value: firing.value,
          firedAt: firing.fired_at,
          resolvedAt: firing.resolved_at,
        })),
    }));
  }

  async delivered(id: string, now: Date): Promise<void> {
    await this.sql.query(Prisma.sql`
      UPDATE alert_notifications SET status = 'sent', attempts = attempts + 1, sent_at = ${now}, last_error = NULL
       WHERE id = ${id} AND status = 'pending'`);
  }

  // A failed try: again at `retryAt`, or (null) never: failed.
  async undelivered(id: string, error: string, retryAt: Date | null): Promise<void> {
    await this.sql.query(Prisma.sql`
      UPDATE alert_notifications
         SET attempts = attempts + 1, last_error = ${error.slice(0, 1000)},
             status = ${retryAt ? 'pending' : 'failed'}, next_at = coalesce(${retryAt}::timestamptz, next_at)
       WHERE id = ${id} AND status = 'pending'`);
  }

  // --- anomalies ---

  // The baselines of each group (a project's profile, before `before`), on every anomaly
  // metric: the median and the median absolute deviation of its last `limit` tasks that ended
  // (completed or failed) in the `windowDays` before, and how many had a value. One statement
  // for a batch's groups: a query per group and metric cost ingest ~1.6 ms each
  // (docs/benchmarks.md).
  async baselines(
    groups: readonly { project: string; profile: string; before: Date }[],
    options: { windowDays: number; limit: number },
  ): Promise<Baseline[]> {
    if (groups.length === 0) return [];
    const rows = await this.sql.query<{
      project: string;
      profile: string;
      metric: AnomalyMetric;
      median: number;
      mad: number;
      tasks: string;
    }>(Prisma.sql`
      WITH g AS (
        SELECT * FROM unnest(${groups.map((group) => group.project)}::text[],
                             ${groups.map((group) => group.profile)}::text[],
                             ${groups.map((group) => group.before)}::timestamptz[]) AS g(project, profile, before)),
      recent AS (
        SELECT g.project, g.profile, s.cost_usd, s.run_seconds, s.tool_calls
          FROM g CROSS JOIN LATERAL (
            SELECT t.cost_usd, t.run_ms / 1000.0 AS run_seconds,
                   (SELECT coalesce(sum(v::bigint), 0) FROM jsonb_each_text(t.tool_calls) AS e(k, v)) AS tool_calls
              FROM task_samples t
             WHERE t.project = g.project AND t.profile = g.profile AND t.status IN ('COMPLETED', 'FAILED')
               AND t.finished_at >= g.before - make_interval(days => ${options.windowDays}::int)
               AND t.finished_at < g.before
             ORDER BY t.finished_at DESC LIMIT ${options.limit}) s),
      measured AS (
        SELECT project, profile, 'cost_usd' AS metric, cost_usd::double precision AS x FROM recent WHERE cost_usd IS NOT NULL
        UNION ALL
        SELECT project, profile, 'run_seconds', run_seconds::double precision FROM recent WHERE run_seconds IS NOT NULL
        UNION ALL
        SELECT project, profile, 'tool_calls', tool_calls::double precision FROM recent),
      medians AS (
        SELECT project, profile, metric, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS median, count(*) AS tasks
          FROM measured GROUP BY project, profile, metric)
      SELECT m.project, m.profile, m.metric, m.median, m.tasks,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(x.x - m.median)) AS mad
        FROM medians m JOIN measured x USING (project, profile, metric)
       GROUP BY m.project, m.profile, m.metric, m.median, m.tasks`);
    return rows.map((row) => ({ ...row, tasks: Number(row.tasks) }));
  }

  // Stores anomalies — a task's once per task and metric, an hour's once per project, profile,
  // metric and hour — in one statement (a batch of samples can have thousands: a statement each
  // was a tenth of ingest's time, docs/benchmarks.md). Returns those that were new.
  async addAnomalies<T extends NewAnomaly>(anomalies: readonly T[]): Promise<T[]> {
    if (anomalies.length === 0) return [];
    const of = <V>(value: (anomaly: T) => V) => anomalies.map(value);
    const rows = await this.sql.query<{
      taskId: string | null;
      hour: Date | null;
      project: string;
      profile: string;
      metric: string;
    }>(Prisma.sql`
      INSERT INTO anomalies (id, task_id, hour, project, profile, metric, value, median, mad, score, baseline_tasks, at)
      SELECT gen_random_uuid()::text, * FROM unnest(
        ${of((a) => a.taskId)}::text[], ${of((a) => a.hour?.toISOString() ?? null)}::timestamptz[],
        ${of((a) => a.project)}::text[], ${of((a) => a.profile)}::text[],
        ${of((a) => a.metric)}::text[], ${of((a) => a.value)}::float8[], ${of((a) => a.median)}::float8[],
        ${of((a) => a.mad)}::float8[], ${of((a) => a.score)}::float8[], ${of((a) => a.baselineTasks)}::int[],
        ${of((a) => a.at.toISOString())}::timestamptz[])
      ON CONFLICT DO NOTHING
      RETURNING task_id AS "taskId", hour, project, profile, metric`);
    const added = new Set(rows.map((row) => anomalyKey({ ...row, hour: row.hour ?? undefined })));
    return anomalies.filter((anomaly) => added.delete(anomalyKey(anomaly)));
  }

  // Each project's profiles' hours from `from` through `through` (hour starts), from the hour
  // rollups: the tasks that completed or failed, how many failed, and what all its tasks cost.
  async hourSums(from: Date, through: Date): Promise<HourSums[]> {
    return this.sql.query<HourSums>(Prisma.sql`
      SELECT project, profile, (extract(epoch FROM bucket) * 1000)::float8 AS "hourMs",
        coalesce(sum(tasks) FILTER (WHERE status IN ('COMPLETED', 'FAILED')), 0)::float8 AS judged,
        coalesce(sum(tasks) FILTER (WHERE status = 'FAILED'), 0)::float8 AS failed,
        sum(cost_usd)::float8 AS "costUsd"
      FROM task_rollups
      WHERE width = 'hour' AND bucket >= ${from} AND bucket <= ${through}
      GROUP BY project, profile, bucket
      ORDER BY project, profile, bucket`);
  }

  // Anomalies of `projects` (slugs), newest first; of one task when given.
  async listAnomalies(
    projects: readonly string[],
    options: { taskId?: string; limit?: number } = {},
  ): Promise<Anomaly[]> {
    const rows = await this.prisma.anomaly.findMany({
      where: { project: { in: [...projects] }, ...(options.taskId ? { taskId: options.taskId } : {}) },
      orderBy: { at: 'desc' },
      take: options.limit ?? 100,
    });
    return rows.map((row) => ({
      id: row.id,
      taskId: row.taskId,
      hour: row.hour?.toISOString() ?? null,
      project: row.project,
      profile: row.profile,
      metric: row.metric as Anomaly['metric'],
      value: row.value,
      median: row.median,
      mad: row.mad,
      score: row.score,
      baselineTasks: row.baselineTasks,
      at: row.at.toISOString(),
    }));
  }
}

const RULE_INCLUDE = {
  project: { select: { slug: true } },
  targets: { select: { targetId: true }, orderBy: { targetId: 'asc' } },
} as const;

type RuleRow = Awaited<ReturnType<PrismaClient['alertRule']['findFirstOrThrow']>> & {
  project: { slug: string } | null;
  targets: { targetId: string }[];
};

function ruleView(row: RuleRow): AlertRule {
  return {
    id: row.id,
    project: row.project?.slug ?? null,
    name: row.name,
    series: row.series as AlertSeries,
    comparator: row.comparator as AlertComparator,
    threshold: row.threshold,
    windowMinutes: row.windowMinutes,
    forSeconds: row.forSeconds,
    severity: row.severity as AlertSeverity,
    profile: row.profile,
    targets: row.targets.map((target) => target.targetId),
    enabled: row.enabled,
    state: row.state as AlertState,
    stateSince: row.stateSince?.toISOString() ?? null,
    value: row.value,
    evaluatedAt: row.evaluatedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

type TargetRow = Awaited<ReturnType<PrismaClient['alertTarget']['findFirstOrThrow']>> & {
  project: { slug: string } | null;
};

function targetView(row: TargetRow): AlertTarget {
  const config = row.config as AlertTargetConfig;
  const kind = row.kind as AlertTargetKind;
  return {
    id: row.id,
    project: row.project?.slug ?? null,
    kind,
    name: row.name,
    // A Slack incoming-webhook URL is its credential: only its origin is shown.
    destination:
      kind === 'email'
        ? (config.to ?? []).join(', ')
        : kind === 'slack'
          ? `${new URL(config.url!).origin}/…`
          : config.url!,
    signed: config.secret !== undefined,
    createdAt: row.createdAt.toISOString(),
  };
}

type SilenceRow = Awaited<ReturnType<PrismaClient['alertSilence']['findFirstOrThrow']>> & {
  project: { slug: string } | null;
};

function silenceView(row: SilenceRow): AlertSilence {
  return {
    id: row.id,
    project: row.project?.slug ?? null,
    rule: row.ruleId,
    startsAt: row.startsAt.toISOString(),
    endsAt: row.endsAt.toISOString(),
    comment: row.comment,
    createdBy: row.createdBy,
  };
}

export function alertRuleNotFound(id: string): HangarError {
  return new HangarError('ALERT_RULE_NOT_FOUND', `alert rule ${id} does not exist or is not yours`);
}
