import { setFlagsFromString } from 'node:v8';

// V8 settings each Hangar service applies by importing ./runtime-lean or ./runtime-throughput
// first in its main.ts, before anything else is loaded (set later, once the modules have grown the
// heap, they save half as much), so that no way of starting a service (Dockerfiles, `hangar up`,
// Helm, the test stacks) can miss them. Measured on this machine (docs/performance.md, "Small
// services"):
//
// - `--liftoff-only`: Prisma 7 runs its query compiler as WebAssembly. By default V8 compiles
//   the hot WebAssembly functions again with TurboFan on background threads, whose allocations
//   stay in glibc's per-thread arenas: ~60 MB of resident memory per service, for no measurable
//   gain per query (0.53 ms a query either way; Prisma caches its query plans).
// - `--semi-space-growth-factor=1` ('lean' only): the young generation starts at 2 × 1 MB and by
//   default grows to 2 × 16 MB (plus a 16 MB copy while it is scavenged) under load. V8 reads
//   `--max-semi-space-size` only when it sets the heap up, which is before any code of ours runs;
//   the growth factor it reads at every scavenge, so a factor of 1 keeps the young generation at
//   its start size. The gateway and the agent-runner let it grow: kept at 1 MB, every object a
//   request still held at a scavenge was copied into the old generation, and a quarter of the
//   gateway's CPU under load went to collecting (its accept rate a fifth lower); the metrics
//   service's ingest spent half its CPU so (docs/benchmarks.md, issue 17). Once a service is
//   idle, ./idle-collector.ts gives a grown young generation back (docs/performance.md, "Small
//   services").
// - `--optimize-for-size` ('lean' only): V8 grows the old generation in small steps, compacts
//   sooner and inlines less: ~30 MB less resident per idle service, ~1.5 ms more CPU per request
//   at the gateway (its accept rate fell by a fifth). The services whose CPU per task is small
//   (websocket-pool, orchestrator) take it; the gateway, the agent-runner and the metrics service
//   (thousands of samples a second at peak) do not.
//
// V8 allows these after start: the WebAssembly tier is read when a module is compiled (Prisma
// compiles its module at the first query), the heap's sizes at the next collection.
// HANGAR_V8_FLAGS replaces them (space-separated V8 flags; empty for V8's own defaults).
export type RuntimeProfile = 'lean' | 'throughput';

const FLAGS: Record<RuntimeProfile, string> = {
  throughput: '--liftoff-only',
  lean: '--liftoff-only --semi-space-growth-factor=1 --optimize-for-size',
};

export function runtimeFlags(profile: RuntimeProfile, env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.HANGAR_V8_FLAGS ?? FLAGS[profile]).split(/\s+/).filter(Boolean);
}

export function applyRuntimeFlags(profile: RuntimeProfile): void {
  for (const flag of runtimeFlags(profile)) setFlagsFromString(flag);
}
