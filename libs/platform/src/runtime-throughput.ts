// Imported first by a service's main.ts: V8 set for CPU per request (./runtime-flags.ts), and the
// garbage of its last work given back once it is idle (./idle-collector.ts).
import { collectWhenIdle } from './idle-collector';
import { applyRuntimeFlags } from './runtime-flags';

applyRuntimeFlags('throughput');
collectWhenIdle();
