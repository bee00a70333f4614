import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { StoredSample } from '@hangar/db';
import { METRICS_REGISTRY } from '@hangar/observability';
import { MetricRecordStream } from '@hangar/redis';

// Seconds: a task's queue wait and run time, from a second to a day.
const SECONDS_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];

// What operators graph about tasks (docs/observability.md#prometheus), counted as each ended
// task's sample is stored — once per sample, by the replica that stored it. Labels are bounded
// sets: projects and profiles are made by admins, statuses and reasons are Hangar's, tools are
// the agents' tool names with MCP tools named by their server (`mcp__<server>`). Never a task id.
@Injectable()
export class SamplesMetrics {
  readonly records: Counter<'outcome'>;
  readonly reconciled: Counter;
  private readonly ended: Counter<'project' | 'profile' | 'status' | 'reason'>;
  private readonly runSeconds: Histogram<'project' | 'profile' | 'status'>;
  private readonly queueSeconds: Histogram<'project' | 'profile'>;
  private readonly cost: Counter<'project' | 'profile'>;
  private readonly tokens: Counter<'project' | 'profile' | 'kind'>;
  private readonly toolCalls: Counter<'project' | 'profile' | 'tool'>;
  private readonly denials: Counter<'project' | 'profile' | 'tool'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, stream: MetricRecordStream) {
    this.records = new Counter({
      name: 'hangar_metrics_records_total',
      help: 'Records handled: stored, duplicate (stored before: read again after a restart), parked (not a record)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.reconciled = new Counter({
      name: 'hangar_metrics_samples_reconciled_total',
      help: 'Ended tasks sampled from PostgreSQL because their record never arrived',
      registers: [registry],
    });
    new Gauge({
      name: 'hangar_metrics_records_backlog',
      help: 'Records waiting for the metrics service: not yet read (lag) and read but not stored (pending)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const { lag, pending } = await stream.backlog();
        this.set({ state: 'lag' }, lag);
        this.set({ state: 'pending' }, pending);
      },
    });
    this.ended = new Counter({
      name: 'hangar_tasks_ended_total',
      help: 'Tasks ended, by project, profile, status and failure reason ("" when completed)',
      labelNames: ['project', 'profile', 'status', 'reason'],
      registers: [registry],
    });
    this.runSeconds = new Histogram({
      name: 'hangar_task_run_seconds',
      help: 'Ended tasks that started: from their start to their end',
      labelNames: ['project', 'profile', 'status'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    });
    this.queueSeconds = new Histogram({
      name: 'hangar_task_queue_wait_seconds',
      help: 'Ended tasks that started: from their creation to their start',
      labelNames: ['project', 'profile'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    });
    this.cost = new Counter({
      name: 'hangar_task_cost_usd_total',
      help: 'What ended tasks cost, as their agents reported it',
      labelNames: ['project', 'profile'],
      registers: [registry],
    });
    this.tokens = new Counter({
      name: 'hangar_task_tokens_total',
      help: 'Tokens of ended tasks by kind: input, output, cache_read, cache_creation',
      labelNames: ['project', 'profile', 'kind'],
      registers: [registry],
    });
    this.toolCalls = new Counter({
      name: 'hangar_task_tool_calls_total',
      help: 'Tool calls of ended tasks, by tool (MCP tools by their server: mcp__<server>)',
      labelNames: ['project', 'profile', 'tool'],
      registers: [registry],
    });
    this.denials = new Counter({
      name: 'hangar_task_permission_denials_total',
      help: "Tool calls of ended tasks their CLI's permission rules refused, by tool (MCP tools by their server)",
      labelNames: ['project', 'profile', 'tool'],
      registers: [registry],
    });
  }

  // Samples just stored. Counters are added to once per label set of the batch: prom-client
  // hashes the labels at every call, which cost more than storing the sample (docs/benchmarks.md).
  stored(samples: readonly StoredSample[]): void {
    const sums = new Map<string, Sums>();
    for (const { sample, queueMs, runMs } of samples) {
      const { project, profile, status } = sample;
      const reason = sample.reason ?? '';
      const key = `${project}\u0000${profile}\u0000${status}\u0000${reason}`;
      let sum = sums.get(key);
      if (!sum) {
        sum = {
          labels: { project, profile, status, reason },
          tasks: 0,
          cost: 0,
          tokens: { input: 0, output: 0, cache_read: 0, cache_creation: 0 },
          tools: new Map(),
          denials: new Map(),
          runs: [],
          queues: [],
        };
        sums.set(key, sum);
      }
      sum.tasks += 1;
      sum.cost += sample.costUsd ?? 0;
      sum.tokens.input += sample.inputTokens ?? 0;
      sum.tokens.output += sample.outputTokens ?? 0;
      sum.tokens.cache_read += sample.cacheReadTokens ?? 0;
      sum.tokens.cache_creation += sample.cacheCreationTokens ?? 0;
      if (runMs !== null) sum.runs.push(runMs / 1000);
      if (queueMs !== null) sum.queues.push(queueMs / 1000);
      addByTool(sum.tools, sample.toolCalls);
      if (sample.permissionDenials) addByTool(sum.denials, sample.permissionDenials);
    }
    for (const { labels, tasks, cost, tokens, tools, denials, runs, queues } of sums.values()) {
      const { project, profile, status } = labels;
      this.ended.inc(labels, tasks);
      if (runs.length > 0) {
        const run = this.runSeconds.labels({ project, profile, status });
        for (const seconds of runs) run.observe(seconds);
      }
      if (queues.length > 0) {
        const queue = this.queueSeconds.labels({ project, profile });
        for (const seconds of queues) queue.observe(seconds);
      }
      if (cost) this.cost.inc({ project, profile }, cost);
      for (const [kind, count] of Object.entries(tokens))
        if (count) this.tokens.inc({ project, profile, kind }, count);
      for (const [tool, calls] of tools) this.toolCalls.inc({ project, profile, tool }, calls);
      for (const [tool, refused] of denials) this.denials.inc({ project, profile, tool }, refused);
    }
  }
}

interface Sums {
  labels: { project: string; profile: string; status: string; reason: string };
  tasks: number;
  cost: number;
  tokens: Record<'input' | 'output' | 'cache_read' | 'cache_creation', number>;
  tools: Map<string, number>;
  denials: Map<string, number>;
  runs: number[];
  queues: number[];
}

// Counts by tool name added to counts by tool label.
function addByTool(into: Map<string, number>, counts: Record<string, number>) {
  for (const tool in counts) {
    const label = toolLabel(tool);
    into.set(label, (into.get(label) ?? 0) + counts[tool]!);
  }
}

// Claude Code names an MCP tool mcp__<server>__<tool>: its server is label enough.
function toolLabel(tool: string): string {
  const mcp = /^(mcp__[^_]+(?:_[^_]+)*?)__/.exec(tool);
  return mcp?.[1] ?? tool;
}
