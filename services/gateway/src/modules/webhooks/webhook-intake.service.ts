import { createHash } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HangarError, withoutNul } from '@hangar/contracts';
import { WebhookDeliveryRepository, type DeliverySource } from '@hangar/db';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { adapterFor } from './providers/provider-adapters';
import { verifySignature } from './signatures';
import { WebhookQueues } from './webhook-queues';
import { WebhookSources, type WebhookSource } from './webhook-sources';

export type Headers = Record<string, string | string[] | undefined>;

// What the receiver answers the provider.
export type IntakeAnswer =
  | { kind: 'queued'; id: string; source: WebhookSource; payload: Record<string, unknown> }
  | { kind: 'duplicate'; id: string }
  | { kind: 'challenge'; challenge: string };

// How long an accepted delivery may wait for the queue before the sweep hands it out again.
const SWEEP_AFTER_MS = 10_000;
const SWEEP_EVERY_MS = 15_000;

// The receivers' work inside the request: find the source, verify the signature on the raw
// bytes, drop duplicates, record, queue. Nothing else happens before the answer.
@Injectable()
export class WebhookIntake implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookIntake.name);
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly sources: WebhookSources,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly queues: WebhookQueues,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async receive(
    provider: string,
    configId: string | undefined,
    headers: Headers,
    raw: Buffer,
  ): Promise<IntakeAnswer> {
    const source = await this.sources.receiving(provider, configId);
    const adapter = adapterFor(source.provider);
    const where: DeliverySource = {
      source: source.id,
      configId: source.configId,
      projectId: source.projectId,
      provider: source.provider,
    };
    const verification = verifySignature(source.provider, raw, headers, source.secret);
    if (!verification.ok) {
      await this.deliveries.recordRejected(where, { reason: verification.reason });
      throw new HangarError('INVALID_SIGNATURE', `delivery refused: ${verification.reason}`);
    }
    let payload: Record<string, unknown>;
    try {
      // A provider may sign text holding NUL; refusing it would lose the delivery (the
      // provider retries the same bytes), so it is kept with U+FFFD for each.
      payload = withoutNul(adapter.parseBody(raw, header(headers, 'content-type')));
    } catch (error) {
      const reason = `the body cannot be read: ${error instanceof Error ? error.message : String(error)}`;
      await this.deliveries.recordRejected(where, { reason });
      throw new HangarError('INVALID_WEBHOOK_BODY', reason);
    }
    const event = adapter.eventName(headers, payload) ?? null;
    // What the signature covers (with Slack's timestamp, whose 5-minute window the check above
    // holds): the same signed body again is a replay, whatever delivery id it claims.
    const bodySha256 = createHash('sha256').update(raw).digest('hex');
    // Without an id of the provider's, the same body twice is the same delivery.
    const deliveryId = adapter.deliveryId(headers, payload) ?? `sha256:${bodySha256}`;
    if (event === 'url_verification' && typeof payload.challenge === 'string') {
      await this.deliveries.recordHandled(where, {
        deliveryId,
        event,
        reason: 'Slack URL verification answered',
      });
      return { kind: 'challenge', challenge: payload.challenge };
    }
    const accepted = await this.deliveries.accept(where, {
      deliveryId,
      event,
      payload,
      bodySha256,
      replayWindowMs: this.config.WEBHOOK_REPLAY_WINDOW_HOURS * 3_600_000,
    });
    if (accepted.kind === 'duplicate') return { kind: 'duplicate', id: accepted.id };
    // A lost enqueue is found again by the sweep below: the delivery is recorded as queued.
    await this.queues
      .enqueueDelivery(accepted.id)
      .catch((error: unknown) =>
        this.logger.warn(`delivery ${accepted.id} not queued yet (${String(error)}); the sweep will`),
      );
    return { kind: 'queued', id: accepted.id, source, payload };
  }

  onApplicationBootstrap() {
    const sweep = () => {
      this.sweep()
        .catch((error: unknown) => this.logger.warn(`delivery sweep failed: ${String(error)}`))
        .finally(() => {
          if (this.sweeper) this.sweeper = setTimeout(sweep, SWEEP_EVERY_MS).unref();
        });
    };
    this.sweeper = setTimeout(sweep, 0).unref();
  }

  onApplicationShutdown() {
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
  }

  private async sweep() {
    for (const id of await this.deliveries.unprocessed(new Date(Date.now() - SWEEP_AFTER_MS))) {
      await this.queues.enqueueDelivery(id);
    }
  }
}

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
