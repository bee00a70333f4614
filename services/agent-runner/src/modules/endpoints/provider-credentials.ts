import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AGENT_PROVIDERS, type AgentProvider } from '@hangar/agents';
import { CredentialPools, type PoolMember } from '@hangar/redis';
import { AGENT_RUNNER_CONFIG, providerKey, type AgentRunnerConfig } from '../../config';

// How long a call waits for a credential of its pool to be free of its caps (calls in flight,
// tokens this minute), before it is answered as rate limited.
const BUSY_WAIT_MS = 60_000;

export interface PoolCredential extends PoolMember {
  key: string;
  // Where its calls go (none: the provider's, or the scripted model's).
  baseUrl: string | undefined;
}

export type CredentialLease =
  { ok: true; credential: PoolCredential; lease: string } | { ok: false; until: number | null };

// The installation's credentials for each provider (docs/governance.md): a pool from
// MODEL_CREDENTIALS, or the one key of ANTHROPIC_API_KEY / OPENAI_API_KEY / GEMINI_API_KEY
// (`installation`), or against the scripted model `scripted-model`. Billed calls lease one
// (CredentialPools: across runners, the least busy that is not rested and under its caps); a
// credential the provider limited is rested until its reset.
@Injectable()
export class ProviderCredentials {
  private readonly logger = new Logger(ProviderCredentials.name);
  readonly pools: Readonly<Record<AgentProvider, readonly PoolCredential[]>>;

  constructor(
    private readonly shared: CredentialPools,
    @Inject(AGENT_RUNNER_CONFIG) config: AgentRunnerConfig,
  ) {
    this.pools = Object.fromEntries(
      AGENT_PROVIDERS.map((provider) => {
        const configured = config.MODEL_CREDENTIALS[provider];
        const pool: PoolCredential[] = configured
          ? configured.map((member) => ({
              name: member.name,
              key: member.key,
              baseUrl: member.baseUrl,
              maxConcurrent: member.maxConcurrent ?? null,
              tokensPerMinute: member.tokensPerMinute ?? null,
            }))
          : [
              {
                name: config.SCRIPTED_MODEL_URL ? 'scripted-model' : 'installation',
                key: config.SCRIPTED_MODEL_URL ? 'scripted-model' : (providerKey(config, provider).key ?? ''),
                baseUrl: providerKey(config, provider).baseUrl,
                maxConcurrent: null,
                tokensPerMinute: null,
              },
            ];
        return [provider, pool];
      }),
    ) as Record<AgentProvider, PoolCredential[]>;
  }

  // The credential of a call that is not billed (counting tokens, listing models): the pool's
  // first, unleased.
  first(provider: AgentProvider): PoolCredential {
    return this.pools[provider][0]!;
  }

  // A credential for a billed call, leased until `release`; `except` are those that just refused
  // it. Waits while every credential is at its caps; answers when the pool is back when every
  // credential rests (`until`), or null after waiting in vain.
  async lease(provider: AgentProvider, except: ReadonlySet<string> = new Set()): Promise<CredentialLease> {
    const pool = this.pools[provider].filter((member) => !except.has(member.name));
    if (pool.length === 0) return { ok: false, until: null };
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (;;) {
      const choice = await this.shared.acquire(provider, pool, randomUUID());
      if (choice.ok)
        return {
          ok: true,
          credential: pool.find((member) => member.name === choice.name)!,
          lease: choice.lease,
        };
      if (choice.why === 'rested') return { ok: false, until: choice.until };
      if (Date.now() > deadline) return { ok: false, until: null };
      await sleep(50);
    }
  }

  async release(provider: AgentProvider, name: string, lease: string, tokens: number): Promise<void> {
    await this.shared.release(provider, name, lease, tokens);
  }

  // The provider limited `name` until `until`: rested; answers when the pool is back if none of
  // its credentials is left.
  async rest(provider: AgentProvider, name: string, until: number): Promise<number | null> {
    const poolBack = await this.shared.rest(provider, name, until, this.pools[provider]);
    this.logger.warn(
      `${provider} credential "${name}" rested until ${new Date(until).toISOString()}` +
        (poolBack ? `; every ${provider} credential rests: tasks that need one wait (provider-quota)` : ''),
    );
    return poolBack;
  }
}
