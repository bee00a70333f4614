import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { SMTPServer } from 'smtp-server';
import {
  AlertNotificationSchema,
  NOTIFICATION_SIGNATURE_HEADER,
  type AlertFiring,
  type AlertRule,
  type AlertTarget,
  type Anomaly,
  type Problem,
  type TaskEndedRecord,
} from '@hangar/contracts';
import { createRedis, MetricRecordStream } from '@hangar/redis';
import { freePort, redisUrl, ServiceStack, startAlertmanager, type Alertmanager } from '@hangar/testing';
import { ProviderApisFake, type RecordedCall } from './fakes/provider-apis.fake';
import { asInstanceAdmin, request, runTask, signedInMember } from './support';

const SECRET = 'alerts-webhook-secret-0123456789';

// Alerts and anomalies end to end (docs/alerts.md): rules made through the gateway, evaluated by
// the metrics service over the rollups of what tasks' records say, notifications received by a
// fake Slack incoming webhook, a local webhook receiver and a real Alertmanager (Debian's), with a
// resolve notice after recovery; a silenced rule sends nothing; a target that answers 500 is
// retried with backoff, then marked failed, without holding the others. Then a task that costs
// 20× its profile's baseline raises one anomaly, which an alert rule sees.
describe('alerts: rules, notifications, silences and anomalies', () => {
  let stack: ServiceStack;
  let fake: ProviderApisFake;
  let alertmanager: Alertmanager | undefined;
  let dir: string;
  let admin: Record<string, string>;
  let redis: ReturnType<typeof createRedis>;
  let records: MetricRecordStream;
  let db: Client;
  let sequence = 0;
  // A real SMTP server (smtp-server, nodemailer's), on loopback: the mails it was handed.
  let smtp: SMTPServer;
  const mails: { from: string; to: string[]; data: string }[] = [];
  const mailWaiters: (() => void)[] = [];

  beforeAll(async () => {
    fake = await new ProviderApisFake().start();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((to) => to.address),
            data: Buffer.concat(chunks).toString('utf8'),
          });
          for (const wake of mailWaiters.splice(0)) wake();
          callback();
        });
      },
    });
    const smtpPort = await freePort();
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
    dir = await mkdtemp(path.join(tmpdir(), 'hangar-alertmanager-'));
    alertmanager = await startAlertmanager({ dir, port: await freePort() });
    stack = await ServiceStack.create('alerts', {
      ALERTS_EVALUATE_SECONDS: '1',
      ALERTS_RETRY_SECONDS: '1',
      ALERTS_NOTIFY_ATTEMPTS: '3',
      ANOMALY_MIN_TASKS: '10',
      ANOMALY_HOUR_CHECK_SECONDS: '1',
      ANOMALY_MIN_HOURS: '4',
      ANOMALY_HOUR_MIN_TASKS: '3',
      ALERTS_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      ALERTS_SMTP_FROM: 'alerts@hangar.test',
      // The receivers here are on loopback, which the egress guard refuses unless named.
      ALERTS_ALLOWED_HOSTS: [fake.url, alertmanager.url].map((url) => new URL(url).host).join(','),
    });
    await stack.start();
    admin = await asInstanceAdmin(stack);
    expect(
      (await request(stack, 'POST', '/api/v1/projects', { slug: 'ops', name: 'Ops' }, admin)).status,
    ).toBe(201);
    redis = createRedis(redisUrl());
    records = new MetricRecordStream(redis, { prefix: stack.redisPrefix });
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await redis?.quit();
    await db?.end();
    await stack?.dispose();
    await alertmanager?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await fake?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  });

  // The first mail, already received or still to come, that `holds`.
  async function mailThat(holds: (mail: (typeof mails)[number]) => boolean) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = mails.find(holds);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such mail within 30 s (${mails.length} received)`);
      await new Promise<void>((resolve) => {
        mailWaiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  }

  const post = async <T>(url: string, body: unknown, status = 201): Promise<T> => {
    const response = await request(stack, 'POST', url, body, admin);
    expect({ status: response.status, body: response.body }).toMatchObject({ status });
    return response.body as T;
  };
  const get = async <T>(url: string): Promise<T> => {
    const response = await request(stack, 'GET', url, undefined, admin);
    expect(response.status).toBe(200);
    return response.body as T;
  };

  // For what no event announces (a row the metrics service writes, Alertmanager's state), asked
  // again until it holds.
  async function until<T>(read: () => Promise<T>, holds: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await read();
      if (holds(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not within 30 s (${JSON.stringify(value)})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  // Records of tasks of project `project` that ended just now (as their lifecycle sends them).
  function ended(
    project: string,
    statuses: ('COMPLETED' | 'FAILED')[],
    extra: Partial<TaskEndedRecord> = {},
  ): TaskEndedRecord[] {
    const now = Date.now();
    return statuses.map((status) => ({
      kind: 'task.ended',
      taskId: `${project}-${(sequence += 1)}`,
      project,
      profile: 'default',
      status,
      reason: status === 'FAILED' ? 'exit-code' : null,
      attempts: 1,
      createdAt: new Date(now - 5000).toISOString(),
      startedAt: new Date(now - 4000).toISOString(),
      finishedAt: new Date(now).toISOString(),
      costUsd: 0.01,
      inputTokens: 10,
      outputTokens: 10,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      numTurns: 1,
      ...extra,
    }));
  }

  const text = (call: RecordedCall) => (call.body as { text?: string }).text ?? '';

  describe('rules and notifications', () => {
    let slack: AlertTarget;
    let webhook: AlertTarget;
    let failing: AlertTarget;
    let manager: AlertTarget;
    let mail: AlertTarget;
    let inside: AlertTarget;
    let failures: AlertRule;
    let quiet: AlertRule;

    beforeAll(async () => {
      slack = await post('/api/v1/alerts/targets?project=ops', {
        kind: 'slack',
        name: 'ops-channel',
        url: fake.slackIncomingWebhookUrl('ops'),
      });
      webhook = await post('/api/v1/alerts/targets?project=ops', {
        kind: 'webhook',
        name: 'pager',
        url: fake.hookUrl('pager'),
        secret: SECRET,
      });
      fake.answerHooks('broken', 500);
      failing = await post('/api/v1/alerts/targets?project=ops', {
        kind: 'webhook',
        name: 'broken',
        url: fake.hookUrl('broken'),
      });
      // An attack: a project admin's target inside the installation (the gateway's own API).
      inside = await post('/api/v1/alerts/targets?project=ops', {
        kind: 'webhook',
        name: 'inside',
        url: `${stack.gatewayUrl}/api/v1/tasks`,
      });
      manager = await post('/api/v1/alerts/targets?installation=true', {
        kind: 'alertmanager',
        name: 'alertmanager',
        url: alertmanager!.url,
      });
      mail = await post('/api/v1/alerts/targets?project=ops', {
        kind: 'email',
        name: 'on-call',
        to: ['oncall@example.com', 'lead@example.com'],
      });
      failures = await post('/api/v1/alerts/rules?project=ops', {
        name: 'Failures',
        series: 'task.failure_rate',
        comparator: '>',
        threshold: 0.5,
        windowMinutes: 10,
        severity: 'critical',
        targets: [slack.id, webhook.id, failing.id, manager.id, mail.id, inside.id],
      });
      quiet = await post('/api/v1/alerts/rules?project=ops', {
        name: 'Quiet failures',
        series: 'task.failed',
        threshold: 0,
        windowMinutes: 10,
        targets: [slack.id, webhook.id],
      });
      await post('/api/v1/alerts/silences', { rule: quiet.id, minutes: 60, comment: 'known, being fixed' });
    });

    it('sends a firing rule to Slack, a signed webhook and Alertmanager; a silenced one to nobody; a refusing target is retried, then failed', async () => {
      const seen = fake.calls.length;
      // 3 of 4 failed: 0.75 > 0.5 (and 3 > 0, for the silenced rule).
      await records.append(ended('ops', ['FAILED', 'FAILED', 'FAILED', 'COMPLETED']));

      const slackCall = await fake.waitFor(
        (call, index) => index >= seen && call.path.startsWith('/services/'),
        30_000,
      );
      expect(text(slackCall)).toBe('FIRING [critical] Failures (project ops): task.failure_rate 0.75 > 0.5');

      const hookCall = await fake.waitFor((call, index) => index >= seen && call.path === '/hooks/pager');
      expect(hookCall.headers[NOTIFICATION_SIGNATURE_HEADER]).toBe(
        `sha256=${createHmac('sha256', SECRET).update(hookCall.rawBody).digest('hex')}`,
      );
      const notification = AlertNotificationSchema.parse(JSON.parse(hookCall.rawBody));
      expect(notification).toMatchObject({
        kind: 'alerts',
        status: 'firing',
        alerts: [
          {
            rule: failures.id,
            name: 'Failures',
            project: 'ops',
            series: 'task.failure_rate',
            severity: 'critical',
            value: 0.75,
            threshold: 0.5,
            resolvedAt: null,
          },
        ],
      });

      const active = await until(
        () => alertmanager!.alerts(),
        (alerts) => alerts.length > 0,
        'the alert in Alertmanager',
      );
      expect(active.map((alert) => alert.labels)).toEqual([
        {
          alertname: 'Failures',
          severity: 'critical',
          series: 'task.failure_rate',
          project: 'ops',
          hangar_rule: failures.id,
        },
      ]);

      // Three tries at the refusing target, the second a second after the first, the third two
      // after it (ALERTS_RETRY_SECONDS 1, doubling); the other targets had theirs before its
      // first retry.
      const broken = () => fake.calls.slice(seen).filter((call) => call.path === '/hooks/broken');
      await fake.waitFor(
        (call, index) => index >= seen && call.path === '/hooks/broken' && broken().length === 3,
        20_000,
      );
      const tries = broken().map((call) => call.at);
      expect(tries[1]! - tries[0]!).toBeGreaterThanOrEqual(1000);
      expect(tries[2]! - tries[1]!).toBeGreaterThanOrEqual(2000);
      const firings = await until(
        () => get<{ items: AlertFiring[] }>('/api/v1/alerts/firings?project=ops'),
        ({ items }) =>
          items.some(
            (firing) =>
              firing.notifications.filter(
                (sent) => (sent.target === 'broken' || sent.target === 'inside') && sent.status === 'failed',
              ).length === 2,
          ),
        'the refusing target and the one inside marked failed',
      );
      const fired = firings.items.find((firing) => firing.rule === failures.id)!;
      expect(fired).toMatchObject({ name: 'Failures', value: 0.75, resolvedAt: null, silenced: false });
      const byTarget = Object.fromEntries(fired.notifications.map((sent) => [sent.target, sent]));
      expect(byTarget.broken).toMatchObject({
        event: 'firing',
        status: 'failed',
        attempts: 3,
        lastError: 'HTTP 500: refused',
      });
      // Never connected to: the egress guard refused the address each time.
      expect(byTarget.inside).toMatchObject({ event: 'firing', status: 'failed', attempts: 3 });
      expect(byTarget.inside!.lastError).toMatch(/refused: 127\.0\.0\.1 is a loopback address/);
      for (const target of ['ops-channel', 'pager', 'alertmanager', 'on-call'])
        expect(byTarget[target]).toMatchObject({
          event: 'firing',
          status: 'sent',
          attempts: 1,
          lastError: null,
        });
      const sentAt = Math.max(
        ...['ops-channel', 'pager', 'alertmanager'].map((target) => Date.parse(byTarget[target]!.sentAt!)),
      );
      expect(sentAt).toBeLessThan(tries[1]!);
      expect(broken()).toHaveLength(3);

      // The silenced rule fired too — stored, marked silenced, and nobody told.
      const silenced = firings.items.find((firing) => firing.rule === quiet.id)!;
      expect(silenced).toMatchObject({ silenced: true, notifications: [] });
      expect(fake.calls.filter((call) => call.rawBody.includes('Quiet failures'))).toEqual([]);

      const rules = await get<{ items: AlertRule[] }>('/api/v1/alerts/rules?project=ops');
      expect(rules.items.find((rule) => rule.id === failures.id)).toMatchObject({
        state: 'firing',
        value: 0.75,
      });
    });

    it('sends a resolve notice once the rule no longer holds, and Alertmanager ends the alert', async () => {
      const seen = fake.calls.length;
      // 3 of 24 failed: 0.125.
      await records.append(ended('ops', Array<'COMPLETED'>(20).fill('COMPLETED')));
      const slackCall = await fake.waitFor(
        (call, index) => index >= seen && call.path.startsWith('/services/'),
        30_000,
      );
      expect(text(slackCall)).toBe(
        'RESOLVED [critical] Failures (project ops): task.failure_rate 0.75 > 0.5',
      );
      const hookCall = await fake.waitFor((call, index) => index >= seen && call.path === '/hooks/pager');
      const notification = AlertNotificationSchema.parse(JSON.parse(hookCall.rawBody));
      expect(notification.status).toBe('resolved');
      expect(notification.alerts.map((alert) => [alert.name, alert.resolvedAt !== null])).toEqual([
        ['Failures', true],
      ]);
      await mailThat((sent) => sent.data.includes('Subject: [Hangar] RESOLVED: Failures'));
      // Ended by the resolve notice (Alertmanager would keep it 5 minutes, its resolve_timeout).
      await until(
        () => alertmanager!.alerts(),
        (alerts) => alerts.length === 0,
        'the alert ended in Alertmanager',
      );

      const rules = await get<{ items: AlertRule[] }>('/api/v1/alerts/rules?project=ops');
      expect(rules.items.find((rule) => rule.id === failures.id)).toMatchObject({ state: 'inactive' });
      // Still failing 3 > 0, still silenced: nothing about it, ever.
      expect(rules.items.find((rule) => rule.id === quiet.id)).toMatchObject({ state: 'firing', value: 3 });
      expect(fake.calls.filter((call) => call.rawBody.includes('Quiet failures'))).toEqual([]);
    });
  });

  describe('bad input', () => {
    async function refused(url: string, body: unknown, field: string, message: RegExp): Promise<void> {
      const ids = async () =>
        (await get<{ items: { id: string }[] }>(url.replace(/\?.*$/, '') + '?project=ops')).items.map(
          (item) => item.id,
        );
      const before = await ids();
      const response = await request(stack, 'POST', url, body, admin);
      expect(response.status).toBe(400);
      expect(response.contentType).toContain('application/problem+json');
      const problem = response.body as Problem;
      expect(problem.errors?.map((error) => error.field)).toContain(field);
      expect(problem.errors?.find((error) => error.field === field)?.message).toMatch(message);
      expect(await ids()).toEqual(before);
    }
    const rule = { name: 'r', series: 'task.failed', threshold: 1 };

    it('refuses a rule on an unknown series, or with a bad threshold, window or target, naming the field', async () => {
      await refused(
        '/api/v1/alerts/rules?project=ops',
        { ...rule, series: 'task.nope' },
        'series',
        /unknown series "task.nope"; one of task.failure_rate/,
      );
      await refused(
        '/api/v1/alerts/rules?project=ops',
        { ...rule, threshold: 'high' },
        'threshold',
        /number/,
      );
      await refused('/api/v1/alerts/rules?project=ops', { ...rule, threshold: -1 }, 'threshold', />=0|0/);
      await refused(
        '/api/v1/alerts/rules?project=ops',
        { ...rule, series: 'task.failure_rate', threshold: 2 },
        'threshold',
        /at most 1/,
      );
      await refused('/api/v1/alerts/rules?project=ops', { ...rule, windowMinutes: 0 }, 'windowMinutes', /1/);
      await refused(
        '/api/v1/alerts/rules?project=ops',
        { ...rule, targets: ['nope'] },
        'targets.0',
        /no alert target nope/,
      );
      await refused(
        '/api/v1/alerts/rules?project=ops',
        { ...rule, profile: 'nope' },
        'profile',
        /no profile "nope"/,
      );
      await refused(
        '/api/v1/alerts/rules?project=ops',
        { ...rule, series: 'runner.live' },
        'series',
        /installation/,
      );
    });

    it('refuses a target without its address or with a bad one', async () => {
      await refused(
        '/api/v1/alerts/targets?project=ops',
        { kind: 'slack', name: 's' },
        'url',
        /needs its url/,
      );
      await refused(
        '/api/v1/alerts/targets?project=ops',
        { kind: 'webhook', name: 'w', url: 'ftp://x' },
        'url',
        /http/,
      );
      await refused(
        '/api/v1/alerts/targets?project=ops',
        { kind: 'email', name: 'e', to: ['not-an-address'] },
        'to.0',
        /mail/i,
      );
      await refused('/api/v1/alerts/targets?project=ops', { kind: 'pager', name: 'p' }, 'kind', /slack/);
    });
  });

  describe('who may', () => {
    it("keeps a project's alerts to its members, and their making to its admins", async () => {
      const rule = await post<AlertRule>('/api/v1/alerts/rules?project=ops', {
        name: 'Ops only',
        series: 'task.failed',
        threshold: 5,
      });
      const viewer = await signedInMember(stack, { name: 'ops-viewer', project: 'ops', role: 'viewer' });
      const stranger = await signedInMember(stack, { name: 'stranger', project: 'default', role: 'admin' });
      // A viewer sees them and may change nothing.
      const seen = await request(stack, 'GET', '/api/v1/alerts/rules?project=ops', undefined, viewer);
      expect((seen.body as { items: AlertRule[] }).items.map((item) => item.id)).toContain(rule.id);
      for (const [method, path, body] of [
        ['POST', '/api/v1/alerts/rules?project=ops', { name: 'x', series: 'task.failed', threshold: 1 }],
        [
          'POST',
          '/api/v1/alerts/targets?project=ops',
          { kind: 'slack', name: 'x', url: 'https://hooks.slack.com/x' },
        ],
        [
          'POST',
          '/api/v1/alerts/targets?installation=true',
          { kind: 'slack', name: 'x', url: 'https://hooks.slack.com/x' },
        ],
        ['POST', '/api/v1/alerts/silences', { rule: rule.id, minutes: 5 }],
        ['DELETE', `/api/v1/alerts/rules/${rule.id}`, undefined],
      ] as const)
        expect([method, path, (await request(stack, method, path, body, viewer)).status]).toEqual([
          method,
          path,
          403,
        ]);
      // Another project's admin is told nothing of them.
      expect(
        (await request(stack, 'GET', '/api/v1/alerts/rules?project=ops', undefined, stranger)).status,
      ).toBe(404);
      const theirs = await request(stack, 'GET', '/api/v1/alerts/rules', undefined, stranger);
      expect((theirs.body as { items: AlertRule[] }).items.map((item) => item.id)).not.toContain(rule.id);
      expect(
        (await request(stack, 'DELETE', `/api/v1/alerts/rules/${rule.id}`, undefined, stranger)).status,
      ).toBe(404);
      const silence = await request(
        stack,
        'POST',
        '/api/v1/alerts/silences',
        { rule: rule.id, minutes: 5 },
        stranger,
      );
      expect(silence.status).toBe(400);
      expect((silence.body as Problem).errors?.map((error) => error.field)).toEqual(['rule']);
      // A rule of theirs cannot notify a target of another project.
      const opsTargets = await get<{ items: AlertTarget[] }>('/api/v1/alerts/targets?project=ops');
      const borrowed = await request(
        stack,
        'POST',
        '/api/v1/alerts/rules?project=default',
        { name: 'y', series: 'task.failed', threshold: 1, targets: [opsTargets.items[0]!.id] },
        stranger,
      );
      expect(borrowed.status).toBe(400);
      // Still there, untouched.
      const rules = await get<{ items: AlertRule[] }>('/api/v1/alerts/rules?project=ops');
      expect(rules.items.find((item) => item.id === rule.id)).toMatchObject({ name: 'Ops only' });
      expect(
        (await get<{ items: { rule: string | null }[] }>('/api/v1/alerts/silences?project=ops')).items.filter(
          (item) => item.rule === rule.id,
        ),
      ).toEqual([]);
    });
  });

  describe('anomalies', () => {
    it("raises one anomaly for a task that costs 20× its profile's baseline, which an alert rule sees", async () => {
      const rule = await post<AlertRule>('/api/v1/alerts/rules?project=default', {
        name: 'Anomalies',
        series: 'anomaly.count',
        threshold: 0,
        windowMinutes: 60,
      });
      const first = await runTask(stack, { prompt: 'hello', scenario: 'reply' });
      expect(first.status).toBe('COMPLETED');
      expect(first.costUsd).toBeGreaterThan(0);
      const cost = first.costUsd!;
      const runMs = Date.parse(first.finishedAt!) - Date.parse(first.startedAt!);
      // Its sample stored first (a task is told finished at its agent's result, and its sample
      // may land after): judged against the history below, it would stand out too.
      await until(
        async () =>
          (
            await db.query<{ n: number }>('SELECT count(*)::int AS n FROM task_samples WHERE task_id = $1', [
              first.id,
            ])
          ).rows[0]!.n,
        (n) => n === 1,
        "the first task's sample stored",
      );
      // The profile's history: 20 tasks like it that cost a twentieth of it (varying a little).
      const now = Date.now();
      const history = Array.from({ length: 20 }, (_, index) => {
        const finished = now - (index + 1) * 60_000;
        return {
          ...ended('default', ['COMPLETED'])[0]!,
          taskId: `history-${index}`,
          startedAt: new Date(finished - runMs * (0.7 + index * 0.03)).toISOString(),
          finishedAt: new Date(finished).toISOString(),
          createdAt: new Date(finished - runMs * 2).toISOString(),
          costUsd: (cost / 20) * (0.9 + index * 0.01),
        };
      });
      await records.append(history);
      // Stored before the task that stands out ends.
      await until(
        async () =>
          (
            await db.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM task_samples WHERE task_id LIKE 'history-%'",
            )
          ).rows[0]!.n,
        (n) => n === 20,
        'the history stored',
      );
      const second = await runTask(stack, { prompt: 'hello again', scenario: 'reply' });
      expect(second.status).toBe('COMPLETED');
      const anomalies = await until(
        () => get<{ items: Anomaly[] }>('/api/v1/anomalies?project=default'),
        ({ items }) => items.length > 0,
        'the anomaly',
      );
      expect(anomalies.items).toEqual([
        expect.objectContaining({
          taskId: second.id,
          project: 'default',
          profile: 'default',
          metric: 'cost_usd',
          value: second.costUsd,
          baselineTasks: 21,
        }),
      ]);
      const [anomaly] = anomalies.items;
      expect(anomaly!.median).toBeCloseTo((cost / 20) * 1.0, 6);
      expect(anomaly!.value / anomaly!.median).toBeGreaterThan(15);
      expect((await get<{ items: Anomaly[] }>(`/api/v1/anomalies?task=${first.id}`)).items).toEqual([]);
      const fired = await until(
        () => get<{ items: AlertRule[] }>('/api/v1/alerts/rules?project=default'),
        ({ items }) => items.find((item) => item.id === rule.id)?.state === 'firing',
        'the anomaly rule firing',
      );
      expect(fired.items.find((item) => item.id === rule.id)).toMatchObject({ value: 1 });
    });

    it("raises an hour's anomalies when a profile's last hour fails and costs far more than its usual hours", async () => {
      const HOUR = 3_600_000;
      // The last whole hour (the service judges the last two: this one still, if the clock
      // turns an hour while the test runs).
      const last = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
      const at = (hour: number, i: number, status: 'COMPLETED' | 'FAILED', costUsd: number) =>
        ended('ops', [status], {
          profile: 'hourly',
          createdAt: new Date(hour + i * 60_000).toISOString(),
          startedAt: new Date(hour + i * 60_000 + 1000).toISOString(),
          finishedAt: new Date(hour + i * 60_000 + 30_000).toISOString(),
          costUsd,
        })[0]!;
      // Five usual hours (4 tasks each, all completed, ~$0.10 each), then an hour of 4 failures at $2.
      const usual = [6, 5, 4, 3, 2].flatMap((back) =>
        [0, 1, 2, 3].map((i) =>
          at(last - back * HOUR + HOUR, i, 'COMPLETED', 0.1 + i * 0.005 + back * 0.001),
        ),
      );
      const bad = [0, 1, 2, 3].map((i) => at(last, i, 'FAILED', 2));
      await records.append([...usual, ...bad]);
      const hourly = async () =>
        (await get<{ items: Anomaly[] }>('/api/v1/anomalies?project=ops')).items.filter(
          (anomaly) => anomaly.taskId === null,
        );
      const found = await until(hourly, (items) => items.length === 2, "the hour's anomalies");
      const byMetric = Object.fromEntries(found.map((anomaly) => [anomaly.metric, anomaly]));
      expect(byMetric.hour_failure_rate).toMatchObject({
        taskId: null,
        hour: new Date(last).toISOString(),
        project: 'ops',
        profile: 'hourly',
        value: 1,
        // No failure in the usual hours: the median is taken as 10%.
        median: 0.1,
        baselineTasks: 5,
        at: new Date(last + HOUR).toISOString(),
      });
      expect(byMetric.hour_cost_usd).toMatchObject({ hour: new Date(last).toISOString(), baselineTasks: 5 });
      expect(byMetric.hour_cost_usd!.value).toBeCloseTo(8, 6);
      expect(byMetric.hour_cost_usd!.value / byMetric.hour_cost_usd!.median).toBeGreaterThan(15);
      // Once: two more looks at the same hour (the service looks every second) add nothing.
      const metrics = async () =>
        (await fetch(`http://127.0.0.1:${stack.ports.get('metrics')}/metrics`)).text();
      const checks = (text: string) =>
        Number(/^hangar_anomaly_hour_checks_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
      const seen = checks(await metrics());
      const later = await until(metrics, (text) => checks(text) >= seen + 2, 'two more looks');
      expect(later).toMatch(/hangar_anomalies_total\{[^}]*metric="hour_cost_usd"[^}]*\} 1\b/);
      expect(later).toMatch(/hangar_anomalies_total\{[^}]*metric="hour_failure_rate"[^}]*\} 1\b/);
      expect(await hourly()).toHaveLength(2);
    });
  });
});
