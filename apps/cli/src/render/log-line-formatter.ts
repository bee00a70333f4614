import type { Palette } from '../output/palette';
import { truncate } from './format-values';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
// pino's bookkeeping; the time is dropped too because `hangar up` lines are read live.
const HIDDEN_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'context', 'service', 'name', 'v']);

// A pino JSON line becomes `INFO  [TasksService] task queued taskId=…`; anything else is kept as is.
export function formatLogLine(line: string, palette: Palette): string {
  if (!line.startsWith('{')) return line;
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    record = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  if (!('msg' in record) && !('level' in record)) return line;
  const label = levelLabel(record.level);
  const context = typeof record.context === 'string' ? `${palette.dim(`[${record.context}]`)} ` : '';
  const message = typeof record.msg === 'string' ? record.msg : '';
  const extras = Object.entries(record)
    .filter(([key]) => !HIDDEN_KEYS.has(key))
    .map(([key, value]) => `${key}=${formatValue(key, value)}`);
  const tail = extras.length === 0 ? '' : ` ${palette.dim(truncate(extras.join(' '), 400))}`;
  return `${paintLevel(label, palette)} ${context}${message}${tail}`;
}

function levelLabel(level: unknown): string {
  if (typeof level === 'number') return LEVELS[level] ?? String(level);
  if (typeof level === 'string') return level.toUpperCase();
  return 'INFO';
}

function paintLevel(label: string, palette: Palette): string {
  const padded = label.padEnd(5);
  if (label === 'ERROR' || label === 'FATAL') return palette.red(padded);
  if (label === 'WARN') return palette.yellow(padded);
  if (label === 'INFO') return palette.green(padded);
  return palette.gray(padded);
}

function formatValue(key: string, value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (key === 'err' && typeof value === 'object' && value !== null) {
    const error = value as { message?: unknown; stack?: unknown };
    if (typeof error.message === 'string') return JSON.stringify(error.message);
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
