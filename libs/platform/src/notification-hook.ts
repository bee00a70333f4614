import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { NOTIFICATION_SIGNATURE_HEADER, type Notification } from '@hangar/contracts';

// Tries, and the wait before each retry.
const RETRY_DELAYS_MS = [1_000, 4_000];
const TIMEOUT_MS = 5_000;

// The installation's notification hook (docs/governance.md): each notification is POSTed as
// JSON, signed (HMAC-SHA256 of the body, `x-hangar-signature-256: sha256=<hex>`) when a secret
// is set, and retried twice on a failure or a non-2xx answer; never on the caller's path, and a
// notification that could not be delivered is logged, not kept.
export class NotificationHook {
  private readonly logger = new Logger(NotificationHook.name);

  constructor(private readonly settings: { url: string | undefined; secret: string | undefined }) {}

  send(notification: Notification): void {
    if (this.settings.url) void this.deliver(this.settings.url, JSON.stringify(notification));
  }

  private async deliver(url: string, body: string): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.settings.secret)
      headers[NOTIFICATION_SIGNATURE_HEADER] = signatureOf(this.settings.secret, body);
    let failure = '';
    for (const delay of [0, ...RETRY_DELAYS_MS]) {
      if (delay > 0) await sleep(delay);
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.ok) return;
        failure = `HTTP ${response.status}`;
      } catch (error) {
        failure = String(error);
      }
    }
    this.logger.warn(`a notification was not delivered to the notification hook (${failure})`);
  }
}

// The value of NOTIFICATION_SIGNATURE_HEADER for `body`: what every signed notification Hangar
// sends carries (this hook's, alert webhooks').
export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
