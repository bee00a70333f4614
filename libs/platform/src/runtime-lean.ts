// Imported first by a service's main.ts: V8 set for a small footprint (./runtime-flags.ts).
import { applyRuntimeFlags } from './runtime-flags';

applyRuntimeFlags('lean');
