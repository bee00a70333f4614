// Imported first by a service's main.ts: V8 set for CPU per request (./runtime-flags.ts), and the
// garbage of its last work given back once it is idle (./idle-collector.ts); Nest loaded without
// ICU's locale data (./nest-date-format.ts).
import { collectWhenIdle } from './idle-collector';
import { loadNestWithDeferredDateFormats } from './nest-date-format';
import { applyRuntimeFlags } from './runtime-flags';

applyRuntimeFlags('throughput');
loadNestWithDeferredDateFormats();
collectWhenIdle();
