import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PROMETHEUS = '/usr/bin/prometheus';

// One series of an instant query's answer: its labels (job and instance among them) and value.
export interface PrometheusSample {
  metric: Record<string, string>;
  value: number;
}

export interface Prometheus {
  url: string;
  query(promql: string): Promise<PrometheusSample[]>;
  stop(): Promise<void>;
}

// The real Prometheus (Debian's package) on a loopback port, scraping each job's targets
// (`host:port`, at /metrics) every `scrapeInterval`, its data in `dir`.
export async function startPrometheus(options: {
  dir: string;
  port: number;
  targets: Record<string, string[]>;
  scrapeInterval?: string;
}): Promise<Prometheus> {
  if (!existsSync(PROMETHEUS)) {
    throw new Error(
      `${PROMETHEUS} is missing: install Debian's prometheus (./scripts/test installs it when run as root)`,
    );
  }
  mkdirSync(options.dir, { recursive: true });
  const interval = options.scrapeInterval ?? '250ms';
  // JSON is YAML: no YAML writer needed.
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: Object.entries(options.targets).map(([job, targets]) => ({
      job_name: job,
      static_configs: [{ targets }],
    })),
  };
  const file = path.join(options.dir, 'prometheus.yml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const url = `http://127.0.0.1:${options.port}`;
  const stop = await startDaemon('prometheus', PROMETHEUS, url, [
    `--config.file=${file}`,
    `--storage.tsdb.path=${path.join(options.dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${options.port}`,
  ]);
  return {
    url,
    query: async (promql) => {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== 'success' || body.data?.resultType !== 'vector')
        throw new Error(`query ${promql} answered ${response.status}: ${JSON.stringify(body)}`);
      return body.data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
    },
    stop,
  };
}

// Starts `binary` with `args` and waits (20 s at most) until `${url}/-/ready` answers 200 (the
// Prometheus projects' daemons all have it); answers how to stop it.
export async function startDaemon(
  name: string,
  binary: string,
  url: string,
  args: string[],
): Promise<() => Promise<void>> {
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return stop;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready at ${url}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
