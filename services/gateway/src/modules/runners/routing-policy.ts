import { Injectable } from '@nestjs/common';
import { HangarError, type Provider } from '@hangar/contracts';
import { ProfileRepository } from '@hangar/db';
import { offers, poolsOf, unsatisfiedReason } from '@hangar/platform';
import { RunnerRegistry } from '@hangar/redis';

// A task no runner could ever take is refused when it is submitted (docs/routing.md), rather
// than left queued: no known runner pool (seen within a day) offers its labels and its profile's
// CLI. While no runner has registered at all nothing is refused: the installation is starting.
@Injectable()
export class RoutingPolicy {
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
    const records = await this.registry.all();
    if (records.length === 0) return;
    const pools = poolsOf(records);
    const providers = new Map<string, Provider>();
    for (const need of needs) {
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
        throw new HangarError('UNROUTABLE', `${need.field}: ${reason}`, {
          errors: [{ field: need.field, message: reason }],
        });
      }
    }
  }
}
