import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { Logger } from '@nestjs/common';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  retryMs: number;
  onStartedLeading: () => Promise<void> | void;
  onStoppedLeading: () => Promise<void> | void;
}

// One actor among the controller's replicas, through a coordination.k8s.io Lease, with the rules
// of client-go's leaderelection (client-node has none):
//   - the holder renews spec.renewTime every `retryMs`; every write carries the resourceVersion
//     it read, so two replicas racing for the Lease cannot both win (409 Conflict);
//   - a follower takes the Lease over only when it has seen the same record unchanged for
//     leaseDurationSeconds on its own clock (clocks of other nodes are never compared);
//   - a leader that cannot renew for two thirds of the duration stops acting before anyone
//     may take over; on shutdown it releases the Lease so a follower takes over at once.
export class LeaderElection {
  private readonly logger = new Logger(LeaderElection.name);
  private leading = false;
  private observed: { record: string; at: number } | undefined;
  private lastRenewal = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private cycle: Promise<void> = Promise.resolve();
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly coordination: CoordinationV1Api,
    private readonly options: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start() {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.cycle;
    if (this.leading) {
      await this.setLeading(false);
      await this.release().catch((error: unknown) =>
        this.logger.warn(`could not release Lease ${this.options.name}: ${String(error)}`),
      );
    }
    await this.transition;
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.cycle = this.tick().finally(() => this.schedule(this.options.retryMs));
    }, ms);
  }

  private async tick(): Promise<void> {
    let held: boolean;
    try {
      held = await this.tryAcquireOrRenew();
    } catch (error) {
      this.logger.warn(`Lease ${this.options.name}: ${String(error)}`);
      held = false;
      // A leader rides out passing API errors until its renew deadline.
      if (this.leading && Date.now() - this.lastRenewal < this.renewDeadlineMs()) return;
    }
    if (held) this.lastRenewal = Date.now();
    if (held !== this.leading && !this.stopped) void this.setLeading(held);
  }

  private renewDeadlineMs() {
    return (this.options.leaseDurationSeconds * 1000 * 2) / 3;
  }

  // The callbacks run one after the other, but never hold up renewing: a leader whose start is
  // slow (an API server away) must keep renewing its Lease, or give it up, on time.
  private setLeading(leading: boolean): Promise<void> {
    this.leading = leading;
    this.logger.log(
      `${this.options.identity} ${leading ? 'leads' : 'no longer leads'} (Lease ${this.options.name})`,
    );
    this.transition = this.transition
      .then(() => (leading ? this.options.onStartedLeading() : this.options.onStoppedLeading()))
      .catch((error: unknown) => this.logger.error({ err: error }, 'leadership change failed'));
    return this.transition;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    const now = new V1MicroTime();
    let lease: V1Lease;
    try {
      lease = await this.coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      try {
        await this.coordination.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (createError) {
        if (statusOf(createError) === 409) return false; // another replica created it first
        throw createError;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, String(spec.renewTime), spec.leaseTransitions]);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder && holder !== identity && Date.now() - this.observed.at < duration) return false;

    const takingOver = holder !== identity;
    try {
      const replaced = await this.coordination.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds,
            renewTime: now,
            ...(takingOver
              ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + (holder ? 1 : 0) }
              : {}),
          },
        },
      });
      const next = replaced.spec ?? {};
      this.observed = {
        record: JSON.stringify([next.holderIdentity, String(next.renewTime), next.leaseTransitions]),
        at: Date.now(),
      };
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false; // someone wrote it since we read it
      throw error;
    }
  }

  // As client-go's ReleaseOnCancel: an empty holder and a one-second duration.
  private async release() {
    const { namespace, name, identity } = this.options;
    const lease = await this.coordination.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    await this.coordination.replaceNamespacedLease({
      name,
      namespace,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } },
    });
  }
}

// The HTTP status of a client-node ApiException (or of a failed watch).
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}
