import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon } from './prometheus';

export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

// An alert as Alertmanager's API v2 shows it.
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed' };
}

export interface Alertmanager {
  url: string;
  // The alerts it holds that have not ended.
  alerts(): Promise<AlertmanagerAlert[]>;
  stop(): Promise<void>;
}

// The real Alertmanager (Debian's prometheus-alertmanager) on a loopback port, alone (no
// cluster), routing everything to a receiver that sends nothing: tests read its API.
export async function startAlertmanager(options: { dir: string; port: number }): Promise<Alertmanager> {
  if (!existsSync(ALERTMANAGER)) {
    throw new Error(
      `${ALERTMANAGER} is missing: install Debian's prometheus-alertmanager (./scripts/test installs it when run as root)`,
    );
  }
  mkdirSync(options.dir, { recursive: true });
  const file = path.join(options.dir, 'alertmanager.yml');
  // JSON is YAML.
  writeFileSync(file, JSON.stringify({ route: { receiver: 'nobody' }, receivers: [{ name: 'nobody' }] }));
  const url = `http://127.0.0.1:${options.port}`;
  const stop = await startDaemon('alertmanager', ALERTMANAGER, url, [
    `--config.file=${file}`,
    `--storage.path=${path.join(options.dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${options.port}`,
    '--cluster.listen-address=',
  ]);
  return {
    url,
    alerts: async () => {
      const response = await fetch(
        `${url}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`,
      );
      if (!response.ok) throw new Error(`alertmanager answered ${response.status}: ${await response.text()}`);
      const alerts = (await response.json()) as AlertmanagerAlert[];
      return alerts.filter((alert) => Date.parse(alert.endsAt) > Date.now());
    },
    stop,
  };
}
