import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { IncomingWebhook } from '@slack/webhook';
import { createTransport, type Transporter } from 'nodemailer';
import { NOTIFICATION_SIGNATURE_HEADER, type AlertNotification } from '@hangar/contracts';
import { AlertStore, type DueNotification } from '@hangar/db';
import { fetchThrough, guardedDispatcher } from '@hangar/egress';
import { signatureOf } from '@hangar/platform';
import { METRICS_CONFIG, type MetricsConfig } from '../../config';
import { AlertsMetrics } from './alerts.metrics';

// Notifications claimed at once; how long one is leased to this replica (longer than a try).
const BATCH = 50;
// How often due retries are looked for when nothing wakes the notifier.
const POLL_MS = 1_000;

// Delivers alert notifications (docs/alerts.md#notifications): each due one is leased from
// PostgreSQL and sent on its own — a target that is slow or down holds nobody else's — then
// marked sent, or tried again after ALERTS_RETRY_SECONDS doubling at each try, and after
// ALERTS_NOTIFY_ATTEMPTS tries marked failed with its last error. Not a BullMQ queue: a
// notification's state is stored with its firing for the API, and it is claimed from that row.
@Injectable()
export class AlertNotifier implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AlertNotifier.name);
  private readonly sending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private mail: Transporter | undefined;

  // Every target is reached through the egress guard (@hangar/egress): a rule's target, which a
  // project admin names, cannot make the metrics service post to itself, the database's host,
  // the cloud metadata endpoint or anything else inside — unless ALERTS_ALLOWED_HOSTS names it
  // (an in-cluster Alertmanager). Checked as each connection is made, redirects included.
  private readonly fetch: typeof globalThis.fetch;

  constructor(
    private readonly alerts: AlertStore,
    private readonly metrics: AlertsMetrics,
    @Inject(METRICS_CONFIG) private readonly config: MetricsConfig,
  ) {
    this.fetch = fetchThrough(guardedDispatcher({ allowHosts: config.ALERTS_ALLOWED_HOSTS }));
  }

  onApplicationBootstrap() {
    this.wake();
  }

  // Something is due now (an evaluation made notifications).
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.claiming = this.claim()
      .catch((error: unknown) => this.logger.error({ err: error }, 'claiming alert notifications failed'))
      .finally(() => {
        this.claiming = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        } else this.schedule();
      });
  }

  async onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.claiming;
    await Promise.allSettled([...this.sending]);
    this.mail?.close();
  }

  private schedule(): void {
    if (!this.stopped) this.timer = setTimeout(() => this.wake(), POLL_MS);
  }

  private async claim(): Promise<void> {
    const leaseMs = (this.config.ALERTS_NOTIFY_TIMEOUT_SECONDS + 30) * 1000;
    for (;;) {
      const due = await this.alerts.claimDue(new Date(), BATCH, leaseMs);
      for (const notification of due) {
        const sending = this.deliver(notification).finally(() => this.sending.delete(sending));
        this.sending.add(sending);
      }
      if (due.length < BATCH) return;
    }
  }

  private async deliver(notification: DueNotification): Promise<void> {
    const kind = notification.target.kind;
    try {
      await this.send(notification);
      await this.alerts.delivered(notification.id, new Date());
      this.metrics.delivery(kind, 'sent');
    } catch (error) {
      const message = describe(error);
      const attempt = notification.attempts + 1;
      const retryAt =
        attempt >= this.config.ALERTS_NOTIFY_ATTEMPTS
          ? null
          : new Date(Date.now() + this.config.ALERTS_RETRY_SECONDS * 1000 * 2 ** (attempt - 1));
      await this.alerts
        .undelivered(notification.id, message, retryAt)
        .catch((stored: unknown) =>
          this.logger.error({ err: stored }, 'recording a failed notification failed'),
        );
      this.metrics.delivery(kind, retryAt ? 'retry' : 'failed');
      this.logger.warn(
        `alert notification ${notification.id} to ${kind} target "${notification.target.name}" failed (try ${attempt}): ${message}` +
          (retryAt ? `; again at ${retryAt.toISOString()}` : '; given up'),
      );
    }
  }

  private async post(url: string, body: string, headers: Record<string, string>, timeoutMs: number) {
    const response = await this.fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text().catch(() => '');
    if (!response.ok) throw new Error(`HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }

  private async send(notification: DueNotification): Promise<void> {
    const { target } = notification;
    const timeoutMs = this.config.ALERTS_NOTIFY_TIMEOUT_SECONDS * 1000;
    switch (target.kind) {
      case 'slack':
        await new IncomingWebhook(target.config.url!, { timeout: timeoutMs, fetch: this.fetch }).send({
          text: summary(notification),
        });
        return;
      case 'webhook': {
        const body = JSON.stringify(payload(notification));
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (target.config.secret)
          headers[NOTIFICATION_SIGNATURE_HEADER] = signatureOf(target.config.secret, body);
        await this.post(target.config.url!, body, headers, timeoutMs);
        return;
      }
      case 'alertmanager':
        await this.post(
          new URL('api/v2/alerts', withSlash(target.config.url!)).toString(),
          JSON.stringify(alertmanagerAlerts(notification)),
          { 'content-type': 'application/json' },
          timeoutMs,
        );
        return;
      case 'email': {
        if (!this.config.ALERTS_SMTP_URL)
          throw new Error('ALERTS_SMTP_URL is not set: e-mail targets cannot be sent');
        // nodemailer reads its settings from the URL's query too.
        const smtp = new URL(this.config.ALERTS_SMTP_URL);
        smtp.searchParams.set('connectionTimeout', String(timeoutMs));
        smtp.searchParams.set('socketTimeout', String(timeoutMs));
        this.mail ??= createTransport(smtp.toString());
        await this.mail.sendMail({
          from: this.config.ALERTS_SMTP_FROM,
          to: target.config.to,
          subject: subject(notification),
          text: summary(notification),
        });
        return;
      }
    }
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

// One line: the error and, for fetch's "fetch failed", its cause (a refused address, a reset).
function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${text}${cause}`.split('\n')[0]!.slice(0, 500);
}

// What a webhook target receives (AlertNotificationSchema).
export function payload(notification: DueNotification): AlertNotification {
  return {
    kind: 'alerts',
    status: notification.event,
    at: new Date().toISOString(),
    alerts: notification.alerts.map((alert) => ({
      ...alert,
      firedAt: alert.firedAt.toISOString(),
      resolvedAt: alert.resolvedAt?.toISOString() ?? null,
    })),
  };
}

function subject(notification: DueNotification): string {
  const names = notification.alerts.map((alert) => alert.name).join(', ');
  return `[Hangar] ${notification.event === 'firing' ? 'FIRING' : 'RESOLVED'}: ${names}`;
}

// One line per alert, e.g. `FIRING [critical] Failures (project web): task.failure_rate 0.75 > 0.5`.
export function summary(notification: DueNotification): string {
  return notification.alerts
    .map((alert) => {
      const where = alert.project ? `project ${alert.project}` : 'installation';
      const head = notification.event === 'firing' ? 'FIRING' : 'RESOLVED';
      return `${head} [${alert.severity}] ${alert.name} (${where}): ${alert.series} ${round(alert.value)} ${alert.comparator} ${alert.threshold}`;
    })
    .join('\n');
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, '');
}

// Alertmanager's API v2 alerts: a resolved one carries its end.
function alertmanagerAlerts(notification: DueNotification) {
  return notification.alerts.map((alert) => ({
    labels: {
      alertname: alert.name,
      severity: alert.severity,
      series: alert.series,
      project: alert.project ?? '',
      hangar_rule: alert.rule,
    },
    annotations: {
      summary: `${alert.series} ${round(alert.value)} ${alert.comparator} ${alert.threshold}`,
    },
    startsAt: alert.firedAt.toISOString(),
    ...(notification.event === 'resolved' && alert.resolvedAt
      ? { endsAt: alert.resolvedAt.toISOString() }
      : {}),
  }));
}
