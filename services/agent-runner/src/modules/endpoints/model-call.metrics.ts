import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { CallTokens } from '@hangar/agents';
import { METRICS_REGISTRY } from '@hangar/observability';

// What agents' model calls through this runner used and cost, by project, profile, provider and
// model (docs/governance.md): counters an operator sums and rates. A call whose model the answer
// did not name counts under model "unknown"; an unpriced call adds tokens but no cost. Calls and
// rests are also by credential (the pool's names, a bounded set): which key answers, which is
// being limited.
@Injectable()
export class ModelCallMetrics {
  private readonly calls: Counter<'project' | 'profile' | 'provider' | 'model' | 'credential' | 'status'>;
  private readonly rests: Counter<'provider' | 'credential' | 'status'>;
  private readonly cost: Counter<'project' | 'profile' | 'provider' | 'model'>;
  private readonly tokens: Counter<'project' | 'profile' | 'provider' | 'model' | 'kind'>;
  private readonly latency: Histogram<'provider'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const labels = ['project', 'profile', 'provider', 'model'] as const;
    this.calls = new Counter({
      name: 'hangar_model_calls_total',
      help: "Agents' billed model calls through this runner, by the HTTP status answered (0: none)",
      labelNames: [...labels, 'credential', 'status'],
      registers: [registry],
    });
    this.rests = new Counter({
      name: 'hangar_model_credential_rests_total',
      help: 'Times a credential was rested for a rate limit, by the HTTP status that said so (200: a limit with nothing left)',
      labelNames: ['provider', 'credential', 'status'],
      registers: [registry],
    });
    this.cost = new Counter({
      name: 'hangar_model_cost_usd_total',
      help: "What agents' model calls cost, in dollars, priced with the price table",
      labelNames: labels,
      registers: [registry],
    });
    this.tokens = new Counter({
      name: 'hangar_model_tokens_total',
      help: "Agents' model tokens, by kind: input, output, cache_read, cache_write",
      labelNames: [...labels, 'kind'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'hangar_model_call_duration_seconds',
      help: 'From a model call forwarded to its answer ended',
      labelNames: ['provider'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    });
  }

  called(
    call: {
      project: string;
      profile: string;
      provider: string;
      model: string | null;
      credential: string;
      status: number;
    },
    tokens: CallTokens | null,
    costUsd: number | null,
    seconds: number,
  ): void {
    const labels = {
      project: call.project,
      profile: call.profile,
      provider: call.provider,
      model: call.model ?? 'unknown',
    };
    this.calls.inc({ ...labels, credential: call.credential, status: String(call.status) });
    this.latency.observe({ provider: call.provider }, seconds);
    if (costUsd !== null) this.cost.inc(labels, costUsd);
    if (!tokens) return;
    this.tokens.inc({ ...labels, kind: 'input' }, tokens.inputTokens);
    this.tokens.inc({ ...labels, kind: 'output' }, tokens.outputTokens);
    this.tokens.inc({ ...labels, kind: 'cache_read' }, tokens.cacheReadTokens);
    this.tokens.inc({ ...labels, kind: 'cache_write' }, tokens.cacheWriteTokens);
  }

  rested(provider: string, credential: string, status: number): void {
    this.rests.inc({ provider, credential, status: String(status) });
  }
}
