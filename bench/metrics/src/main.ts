import { parseArgs } from 'node:util';
import { analytics } from './analytics';
import { ingest } from './ingest';

// bench/metrics: issue 17's two measures of the time series of ended tasks, on the plain
// PostgreSQL path (native day partitions, no TimescaleDB; docs/observability.md).
//
//   ingest     samples/s the real metrics service stores. It runs alone on a stack of its own
//              (ServiceStack: its own database and Redis prefix; it needs PostgreSQL and Redis
//              only). For each --batch size (METRICS_BATCH_SIZE) it is started, then stopped
//              (SIGSTOP) while --records task.ended records ending over the last --over seconds
//              (86400 by default: a day's backlog, every batch spread over many minutes' rollup
//              rows; 60: a live stream at these rates, whose records end within the minute) are
//              appended to its stream (MetricRecordStream.append, 10,000 per pipeline), then let
//              run (SIGCONT) and timed until the group's backlog is empty (lag and pending 0):
//              every record stored, with its rollups, and acknowledged; task_samples must then
//              hold them all. Also the CPU time per 1000 samples over that time of the service
//              (/proc/<pid>/stat; its GC from its own /metrics), of PostgreSQL (every `postgres`
//              process, and those serving the bench's database), of Redis and of the rest of the
//              machine. Target: ≥ 20,000 samples/s.
//   analytics  the latency of AnalyticsRepository.summarize() (GET /api/v1/analytics) over a
//              year of history. A fresh migrated database gets the year's day partitions
//              (TaskSamples.ensurePartitions) and --samples samples ending over the last 365 days,
//              made in SQL a UTC day at a time (generate_series), each day's rollups made from its
//              rows with the store's functions and the metrics service's retention (minutes for
//              the last 14 days, hours and days for all). Then each of the dashboard's ranges —
//              a day by hour, 7, 30 and 365 days by day, 90 days by hour — for the busiest project
//              and for every project, --repeat times after 3 warm-ups: p50, p95, max. Target:
//              p95 ≤ 100 ms. The database is dropped at the end unless --keep; --database <url>
//              measures a database kept so again, as it is (no fill).
//
// Run it with ./scripts/bench metrics [ingest|analytics] [options] (it builds first).
const USAGE = `usage: ./scripts/bench metrics [ingest|analytics] [options]
  ingest     --records 200000 --batch 500,2000   (METRICS_BATCH_SIZE values, one run each)
             [--over 86400]   (the seconds the records end over: a day's backlog; 60: a live stream)
             [--cpu-prof <dir>]   (the metrics service writes a V8 CPU profile of each run there)
  analytics  --samples 10000000 --repeat 30 --connections 2 (filling) [--keep]   (--keep: the database is not dropped; its URL is printed)
  analytics  --database <url> --repeat 30   (a database kept by --keep, measured again without filling)`;

const INGEST_OPTIONS = ['records', 'batch', 'over', 'cpu-prof'];
const ANALYTICS_OPTIONS = ['samples', 'repeat', 'connections', 'keep', 'database'];

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        records: { type: 'string' },
        batch: { type: 'string' },
        over: { type: 'string' },
        'cpu-prof': { type: 'string' },
        samples: { type: 'string' },
        repeat: { type: 'string' },
        connections: { type: 'string' },
        keep: { type: 'boolean' },
        database: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    // Node's message, to its first sentence ("Unknown option '--x'", "Option '--records
    // <value>' argument missing").
    const message = (error instanceof Error ? error.message : String(error)).split('. ')[0];
    fail(`${message}: see ./scripts/bench metrics --help`);
  }
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function positiveInteger(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(parsed) || parsed < 1)
    fail(`--${flag} must be a positive whole number, not "${value}"`);
  return parsed;
}

async function main() {
  const { values, positionals } = parse();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const [mode = 'ingest', ...extra] = positionals;
  if (mode !== 'ingest' && mode !== 'analytics')
    fail(`"${mode}" is not a measure: say ingest or analytics (./scripts/bench metrics --help)`);
  if (extra.length > 0) fail(`one measure at a time: "${extra.join(' ')}" is not an option`);
  const foreign = Object.keys(values).filter((name) =>
    (mode === 'ingest' ? ANALYTICS_OPTIONS : INGEST_OPTIONS).includes(name),
  );
  if (foreign.length > 0)
    fail(
      `--${foreign[0]} is not an option of ${mode}: it takes ${(mode === 'ingest' ? INGEST_OPTIONS : ANALYTICS_OPTIONS).map((name) => `--${name}`).join(', ')}`,
    );

  if (mode === 'ingest') {
    const records = positiveInteger(values.records, 200_000, 'records');
    const batches = (values.batch ?? '500,2000')
      .split(',')
      .map((batch) => positiveInteger(batch.trim(), 0, 'batch'));
    const overMs = positiveInteger(values.over, 86_400, 'over') * 1000;
    await ingest({ records, batches, overMs, cpuProfileDir: values['cpu-prof'] });
  } else {
    if (values.database !== undefined) {
      if (!/^postgres(ql)?:\/\/./.test(values.database))
        fail(`--database must be a PostgreSQL URL (postgresql://…), not "${values.database}"`);
      const filling = ['samples', 'connections', 'keep'].find((name) => name in values);
      if (filling) fail(`--${filling} is for a database the benchmark fills: not with --database`);
    }
    await analytics({
      samples: positiveInteger(values.samples, 10_000_000, 'samples'),
      repeat: positiveInteger(values.repeat, 30, 'repeat'),
      connections: positiveInteger(values.connections, 2, 'connections'),
      keep: values.keep ?? false,
      ...(values.database === undefined ? {} : { database: values.database }),
    });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
