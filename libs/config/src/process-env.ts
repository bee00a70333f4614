// Environment every Hangar service process starts with, whoever starts it: `hangar up`, the test
// and benchmark stacks (@hangar/testing), the images (each Dockerfile sets the same ENV; a test
// holds them to this list). glibc reads these when the process starts, so a service cannot set
// them for itself.
//
// MALLOC_MMAP_THRESHOLD_: glibc serves an allocation of 128 KiB or more with a mapping of its own,
// given back as soon as it is freed, until a first such block is freed: then it raises that
// threshold to the freed block's size (up to 32 MiB) and serves smaller blocks from its arenas,
// where one freed between live allocations stays resident. A fixed threshold keeps the first
// behaviour. Idle RSS after a task (docs/performance.md, "Small services"): gateway 145 → 130 MB,
// the other services 5–7 MB less each.
export const SERVICE_PROCESS_ENV: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_MMAP_THRESHOLD_: '131072',
});
