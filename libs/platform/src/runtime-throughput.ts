// Imported first by a service's main.ts: V8 set for CPU per request (./runtime-flags.ts).
import { applyRuntimeFlags } from './runtime-flags';

applyRuntimeFlags('throughput');
