import type {
  WorkflowDefinition,
  WorkflowRun,
  WorkflowRunStatus,
  WorkflowStepRun,
  WorkflowStepStatus,
} from '@hangar/contracts';
import type { Palette } from '../output/palette';
import { formatCost, formatDuration, truncate } from './format-values';
import type { WorkflowRunState } from './workflow-run-state';

type StepDefinition = WorkflowDefinition['steps'][number];
type StatusShown = WorkflowStepStatus | 'PENDING';

const ICONS: Record<StatusShown, string> = {
  PENDING: '○',
  RUNNING: '●',
  WAITING: '◷',
  COMPLETED: '✓',
  FAILED: '✗',
  SKIPPED: '↷',
  CANCELLED: '■',
};

function paint(status: StatusShown, palette: Palette): (text: string) => string {
  switch (status) {
    case 'COMPLETED':
      return palette.green;
    case 'FAILED':
      return palette.red;
    case 'CANCELLED':
    case 'WAITING':
      return palette.yellow;
    case 'RUNNING':
      return palette.cyan;
    case 'PENDING':
    case 'SKIPPED':
      return palette.dim;
  }
}

// `workflow run cm… · plan-do-review v2`
export function formatRunHeader(run: WorkflowRun, palette: Palette): string {
  return `${palette.bold('workflow run')} ${run.id} ${palette.dim('·')} ${run.workflow} v${run.version}`;
}

// A step's result in a few words: its output's first line (JSON for structured output), its
// error, what an approval waits for, where a loop or a fan-out is.
export function stepDetail(step: WorkflowStepRun, runId: string, steps: WorkflowStepRun[] = []): string {
  switch (step.status) {
    case 'COMPLETED':
      return outputText(step);
    case 'FAILED':
      return step.error ?? 'failed';
    case 'CANCELLED':
      return step.error ?? '';
    case 'SKIPPED':
      return '';
    case 'WAITING':
      if (step.type === 'approval') {
        const message = messageOf(step.output);
        const how = `hangar workflow approve|reject ${runId} ${step.key}`;
        return message === '' ? how : `${oneLine(message)} — ${how}`;
      }
      return `attempt ${step.attempt} failed, retrying${step.error ? `: ${oneLine(step.error)}` : ''}`;
    case 'RUNNING': {
      if (step.type === 'loop') return `iteration ${step.iteration ?? 1}`;
      const items = steps.filter(
        (other) =>
          step.item === null &&
          other.stepId === step.stepId &&
          other.iteration === step.iteration &&
          other.item !== null,
      );
      if (items.length > 0) return countItems(items);
      return step.attempt > 1 ? `attempt ${step.attempt}` : '';
    }
  }
}

function countItems(items: WorkflowStepRun[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.status, (counts.get(item.status) ?? 0) + 1);
  return [...counts].map(([status, count]) => `${count} ${status.toLowerCase()}`).join(' · ');
}

function outputText(step: WorkflowStepRun): string {
  const output = step.output;
  if (output === null || output === undefined) return '';
  if (step.type === 'loop' && typeof output === 'object' && 'iterations' in output) {
    const iterations = output.iterations;
    return `after ${String(iterations)} iteration${iterations === 1 ? '' : 's'}`;
  }
  if (step.type === 'approval' && typeof output === 'object') {
    const decision = output as { approved?: unknown; by?: unknown; comment?: unknown };
    const verb = decision.approved === false ? 'rejected' : 'approved';
    const by = typeof decision.by === 'string' ? ` by ${decision.by}` : '';
    const comment = typeof decision.comment === 'string' ? `: ${oneLine(decision.comment)}` : '';
    return `${verb}${by}${comment}`;
  }
  if (Array.isArray(output) && step.item === null)
    return `${output.length} item${output.length === 1 ? '' : 's'}`;
  return typeof output === 'string' ? oneLine(output) : JSON.stringify(output);
}

function messageOf(output: unknown): string {
  if (typeof output !== 'object' || output === null) return '';
  const message = (output as { message?: unknown }).message;
  return typeof message === 'string' ? message : '';
}

function oneLine(text: string): string {
  const lines = text
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return lines.length > 1 ? `${lines[0]} …` : (lines[0] ?? '');
}

// One plain line per change, for logs and pipes: `✓ plan completed · {"plan":"…"}`.
export function formatStepChange(
  step: WorkflowStepRun,
  runId: string,
  palette: Palette,
  steps: WorkflowStepRun[] = [],
  maxDetail = 160,
): string {
  const color = paint(step.status, palette);
  const detail = truncate(stepDetail(step, runId, steps), maxDetail);
  return `${color(ICONS[step.status])} ${step.key} ${color(step.status.toLowerCase())}${detail === '' ? '' : palette.dim(' · ') + detail}`;
}

interface TableRow {
  depth: number;
  key: string;
  status: StatusShown;
  detail: string;
}

// The run's steps as a small tree: each step where its definition puts it (loop iterations and
// fan-out items under their step), steps not started yet as pending with what they wait for.
export function formatStepTable(
  state: WorkflowRunState,
  palette: Palette,
  options: { width?: number; maxRows?: number } = {},
): string[] {
  const rows = tableRows(state);
  const maxRows = options.maxRows ?? Infinity;
  const shown = rows.length > maxRows ? rows.slice(0, Math.max(1, maxRows - 1)) : rows;
  const keyWidth = Math.min(32, Math.max(4, ...shown.map((row) => row.depth * 2 + row.key.length)));
  const width = options.width ?? 200;
  const lines = shown.map((row) => {
    const color = paint(row.status, palette);
    const indent = '  '.repeat(row.depth);
    const key = truncate(row.key, keyWidth - indent.length).padEnd(keyWidth - indent.length);
    const status = row.status.toLowerCase().padEnd(9);
    // 2 (margin) + 2 (icon and space) + key + 2 + status + 2
    const room = width - (2 + 2 + keyWidth + 2 + 9 + 2);
    const detail = room > 8 ? truncate(row.detail, room) : '';
    const shown = detail === '' ? '' : `  ${row.status === 'PENDING' ? palette.dim(detail) : detail}`;
    return `  ${indent}${color(ICONS[row.status])} ${key}  ${color(detail === '' ? status.trimEnd() : status)}${shown}`;
  });
  if (shown.length < rows.length) lines.push(palette.dim(`  … ${rows.length - shown.length} more`));
  return lines;
}

function tableRows(state: WorkflowRunState): TableRow[] {
  const runId = state.run.id;
  const steps = state.steps;
  const row = (step: WorkflowStepRun, depth: number): TableRow => ({
    depth,
    key: step.key,
    status: step.status,
    detail: stepDetail(step, runId, steps),
  });
  const definition = state.definition;
  if (!definition)
    return steps.map((step) => row(step, step.iteration !== null || step.item !== null ? 1 : 0));
  const rows: TableRow[] = [];
  const placed = new Set<string>();
  const pending = (id: string, needs: string[], depth: number): TableRow => ({
    depth,
    key: id,
    status: 'PENDING',
    detail: needs.length > 0 ? `after ${needs.join(', ')}` : '',
  });
  // A step's own row and its fan-out items, at one iteration (null outside loops).
  const place = (definitionStep: StepDefinition, iteration: number | null, depth: number): boolean => {
    const own = steps.filter((step) => step.stepId === definitionStep.id && step.iteration === iteration);
    const parent = own.find((step) => step.item === null);
    const items = own.filter((step) => step.item !== null).sort((a, b) => (a.item ?? 0) - (b.item ?? 0));
    if (parent) rows.push(row(parent, depth));
    for (const item of items) rows.push(row(item, depth + 1));
    for (const step of own) placed.add(step.key);
    return own.length > 0;
  };
  for (const definitionStep of definition.steps) {
    if (definitionStep.type !== 'loop') {
      if (!place(definitionStep, null, 0)) rows.push(pending(definitionStep.id, definitionStep.needs, 0));
      continue;
    }
    // A loop's own row is keyed by its id and holds its current iteration.
    const loopRow = state.step(definitionStep.id);
    if (loopRow) {
      rows.push(row(loopRow, 0));
      placed.add(loopRow.key);
    } else rows.push(pending(definitionStep.id, definitionStep.needs, 0));
    const childIds = new Set(definitionStep.steps.map((child) => child.id));
    const iterations = [
      ...new Set(
        steps
          .filter((step) => childIds.has(step.stepId) && step.iteration !== null)
          .map((step) => step.iteration!),
      ),
    ].sort((a, b) => a - b);
    const current = loopRow?.status === 'RUNNING' ? (loopRow.iteration ?? 1) : undefined;
    if (current !== undefined && !iterations.includes(current)) iterations.push(current);
    if (iterations.length === 0) {
      for (const child of definitionStep.steps) rows.push(pending(child.id, child.needs, 1));
      continue;
    }
    for (const iteration of iterations) {
      for (const child of definitionStep.steps) {
        if (place(child, iteration, 1)) continue;
        if (iteration === current) rows.push(pending(`${child.id}@${iteration}`, child.needs, 1));
      }
    }
  }
  // Rows the definition does not place (read without it, or a newer engine): at the end.
  for (const step of steps) if (!placed.has(step.key)) rows.push(row(step, 0));
  return rows;
}

// `COMPLETED · $0.0123 · 12.3s`, then the error or the outputs.
export function formatRunSummary(run: WorkflowRun, palette: Palette): string[] {
  const facts = [formatCost(run.costUsd)];
  if (run.finishedAt !== null)
    facts.push(formatDuration(Math.max(0, Date.parse(run.finishedAt) - Date.parse(run.createdAt))));
  const lines = [[statusText(run.status, palette), ...facts].join(palette.dim(' · '))];
  if (run.error) lines.push(`${palette.red('error:')} ${run.error}`);
  const outputs = Object.entries(run.outputs ?? {});
  if (outputs.length > 0) {
    const width = Math.max(...outputs.map(([name]) => name.length));
    lines.push(palette.dim('outputs'));
    for (const [name, value] of outputs) {
      const [first = '', ...rest] = value.replace(/\s+$/, '').split('\n');
      lines.push(`  ${palette.bold(name.padEnd(width))}  ${first}`);
      for (const line of rest) lines.push(`  ${' '.repeat(width)}  ${line}`);
    }
  }
  return lines;
}

function statusText(status: WorkflowRunStatus, palette: Palette): string {
  switch (status) {
    case 'COMPLETED':
      return palette.green(palette.bold(status));
    case 'FAILED':
      return palette.red(palette.bold(status));
    case 'CANCELLED':
      return palette.yellow(palette.bold(status));
    case 'RUNNING':
      return palette.bold(status);
  }
}
