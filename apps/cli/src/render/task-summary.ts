import type { TaskView } from '../api/gateway-client';
import type { Palette } from '../output/palette';
import { formatCost, formatCount, formatDuration } from './format-values';

// `COMPLETED · $0.0123 · 1,234 in / 56 out tokens · 3 turns · 4.2s`
export function formatTaskSummary(task: TaskView, palette: Palette): string[] {
  const statusText =
    task.status === 'COMPLETED'
      ? palette.green(palette.bold(task.status))
      : task.status === 'FAILED'
        ? palette.red(palette.bold(task.status))
        : task.status === 'CANCELLED'
          ? palette.yellow(palette.bold(task.status))
          : palette.bold(task.status);
  const facts: string[] = [];
  if (task.costUsd !== null && task.costUsd !== undefined) facts.push(formatCost(task.costUsd));
  if (task.usage) {
    const { inputTokens, outputTokens, cacheReadTokens, cacheCreationTokens } = task.usage;
    facts.push(`${formatCount(inputTokens)} in / ${formatCount(outputTokens)} out tokens`);
    if (cacheReadTokens > 0 || cacheCreationTokens > 0) {
      facts.push(`cache ${formatCount(cacheReadTokens)} read / ${formatCount(cacheCreationTokens)} written`);
    }
  }
  if (task.numTurns !== null && task.numTurns !== undefined)
    facts.push(`${task.numTurns} turn${task.numTurns === 1 ? '' : 's'}`);
  if (task.durationMs !== null && task.durationMs !== undefined) facts.push(formatDuration(task.durationMs));
  const lines = [[statusText, ...facts].join(palette.dim(' · '))];
  if (task.error) lines.push(`${palette.red('error:')} ${task.error}`);
  return lines;
}

// `hangar status`: the summary plus what the task was and where it ran.
export function formatTaskDetails(task: TaskView, palette: Palette): string[] {
  const lines = [`${palette.bold('task')} ${task.id}`, ...formatTaskSummary(task, palette)];
  const facts: [string, string | null | undefined][] = [
    ['prompt', task.prompt],
    ['profile', task.profile],
    ['scenario', task.scenario],
    ['workspace', task.workspace],
    ['session', task.agentSessionId],
    ['created', task.createdAt],
    ['finished', task.finishedAt],
  ];
  for (const [label, value] of facts) {
    if (value !== null && value !== undefined && value !== '')
      lines.push(`${palette.dim(label.padEnd(10))}${value}`);
  }
  if (task.result) lines.push(palette.dim('result'), ...task.result.replace(/\s+$/, '').split('\n'));
  return lines;
}
