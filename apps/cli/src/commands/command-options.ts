import { InvalidArgumentError, type Command } from 'commander';
import { parsePort } from '../config/cli-env';

export type SetExitCode = (code: number) => void;

export function portOption(raw: string): number {
  const port = parsePort(raw);
  if (port === undefined) throw new InvalidArgumentError('must be a TCP port (1-65535)');
  return port;
}

export function secondsOption(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(raw);
}

export function urlOption(raw: string): string {
  try {
    const url = new URL(raw);
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) throw new Error(url.protocol);
    return raw;
  } catch {
    throw new InvalidArgumentError('must be an http(s):// URL');
  }
}

export function addApiOptions(command: Command): Command {
  return command.option(
    '--api <url>',
    'gateway URL (default: $HANGAR_API_URL or http://127.0.0.1:4005)',
    urlOption,
  );
}
