import { Injectable } from '@nestjs/common';
import { HangarError, PROVIDERS, type Provider } from '@hangar/contracts';
import { ProfileRepository } from '@hangar/db';
import { offers, poolsOf, unsatisfiedReason, type PoolOffer } from '@hangar/platform';
import { RunnerRegistry } from '@hangar/redis';

// How long the pools read from the registry answer for a task that they can take. Pools change at
// runners' heartbeats (seconds) and are remembered for a day; a task they cannot take is checked
// again against the registry as it is now before it is refused, so a pool that has just
// registered is never missed.
const POOLS_FRESH_MS = 1000;

// A task no runner could ever take is refused when it is submitted (docs/routing.md), rather
// than left queued: no known runner pool (seen within a day) offers its labels and its profile's
// CLI. While no runner has registered at all nothing is refused: the installation is starting.
@Injectable()
export class RoutingPolicy {
  private known: { pools: PoolOffer[]; readAt: number } | undefined;

  constructor(
    private readonly registry: RunnerRegistry,
    private readonly profiles: ProfileRepository,
  ) {}

  // `field` names what the problem points at (`requires`, `steps.build.requires`).
  async check(
    projectId: string,
    needs: { profile: string; requires: readonly string[]; field: string }[],
  ): Promise<void> {
    if (needs.length === 0) return;
    const recent = this.known && Date.now() - this.known.readAt < POOLS_FRESH_MS ? this.known.pools : null;
    const providers = new Map<string, Provider>();
    if (recent && (await this.refusal(recent, projectId, needs, providers)) === null) return;
    const pools = await this.read();
    const refusal = await this.refusal(pools, projectId, needs, providers);
    if (refusal) throw refusal;
  }

  private async read(): Promise<PoolOffer[]> {
    const readAt = Date.now();
    const pools = poolsOf(await this.registry.all(readAt));
    this.known = { pools, readAt };
    return pools;
  }

  private async refusal(
    pools: readonly PoolOffer[],
    projectId: string,
    needs: { profile: string; requires: readonly string[]; field: string }[],
    providers: Map<string, Provider>,
  ): Promise<HangarError | null> {
    if (pools.length === 0) return null;
    for (const need of needs) {
      // When the pools that have the labels offer every CLI between them, the profile's provider
      // cannot make the task unroutable: no need to read the profile (one statement fewer for
      // every task a client submits, in the usual installation).
      const labelled = pools.filter((pool) => need.requires.every((label) => pool.labels.includes(label)));
      if (PROVIDERS.every((provider) => labelled.some((pool) => pool.providers.includes(provider)))) continue;
      let provider = providers.get(need.profile);
      if (!provider) {
        // An unknown profile is the lifecycle's to refuse, with its own message.
        const profile = await this.profiles.get(projectId, need.profile).catch(() => null);
        if (!profile) continue;
        provider = profile.provider;
        providers.set(need.profile, provider);
      }
      const wanted = { requires: need.requires, provider };
      if (!pools.some((pool) => offers(pool, wanted))) {
        const reason = unsatisfiedReason(pools, wanted);
        return new HangarError('UNROUTABLE', `${need.field}: ${reason}`, {
          errors: [{ field: need.field, message: reason }],
        });
      }
    }
    return null;
  }
}
