import { type Approval, assertUnreachable } from '@hangar/contracts';
import type { Palette } from '../output/palette';
import { formatColumns } from './format-columns';
import { truncate } from './format-values';
import { escapeControls, escapedLine } from './terminal-text';
import { toolCallArgument } from './tool-call';

// What the call does, as the table shows it: the Bash command, the file path, … (one line).
const CALL_WIDTH = 50;
// A whole call in a sentence: `Bash(git push origin main)`.
const SENTENCE_CALL_WIDTH = 80;

// Everything an agent or a person wrote is escaped before it is printed (escapeControls).
export function formatCall(approval: Pick<Approval, 'tool' | 'input'>, width = CALL_WIDTH): string {
  const argument = toolCallArgument(approval.tool, approval.input);
  return argument === undefined || argument === '' ? '' : truncate(escapedLine(argument), width);
}

function formatToolCall(approval: Approval): string {
  const call = formatCall(approval, SENTENCE_CALL_WIDTH);
  return `${escapedLine(approval.tool)}${call === '' ? '' : `(${call})`}`;
}

// `in 4m`: how long a pending approval still waits; `passed` once its deadline has (the gateway
// then denies it as expired).
export function formatTimeLeft(deadline: string, now: number): string {
  const left = Date.parse(deadline) - now;
  if (Number.isNaN(left)) return deadline;
  if (left <= 0) return 'passed';
  const seconds = Math.floor(left / 1000);
  if (seconds < 60) return `in ${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes}m`;
  const rest = minutes % 60;
  return `in ${Math.floor(minutes / 60)}h${rest === 0 ? '' : ` ${rest}m`}`;
}

// `pending`, `allowed once by ann@example.com`, `denied by …`, `expired`.
function formatOutcome(approval: Approval): string {
  const by = approval.answeredBy === null ? '' : ` by ${escapedLine(approval.answeredBy)}`;
  switch (approval.status) {
    case 'PENDING':
      return 'pending';
    case 'ALLOWED':
      return `${approval.decision === 'allow-task' ? 'allowed for the task' : 'allowed once'}${by}`;
    case 'DENIED':
      return `denied${by}`;
    case 'EXPIRED':
      return 'expired';
    default:
      return assertUnreachable(approval.status);
  }
}

// `hangar approvals`: one row per approval, soonest deadline first as the gateway sends them.
export function formatApprovalTable(approvals: Approval[], palette: Palette, now: number): string[] {
  const projects = new Set(approvals.map((approval) => approval.project));
  const several = projects.size > 1;
  const header = [
    'ID',
    ...(several ? ['PROJECT'] : []),
    'TASK',
    'TOOL',
    'CALL',
    'RULE',
    'DEADLINE',
    'STATUS',
  ];
  const rows = approvals.map((approval) => [
    approval.id,
    ...(several ? [approval.project] : []),
    approval.taskId,
    escapedLine(approval.tool),
    formatCall(approval),
    escapedLine(approval.rule),
    approval.status === 'PENDING' ? formatTimeLeft(approval.deadline, now) : '-',
    formatOutcome(approval),
  ]);
  return formatColumns(header, rows, palette.dim);
}

// `hangar approvals show`: every field, and the tool's input as indented JSON.
export function formatApprovalDetails(approval: Approval, palette: Palette, now: number): string[] {
  const lines = [`${palette.bold('approval')} ${approval.id} · ${paintStatus(approval, palette)}`];
  const decision: Record<NonNullable<Approval['decision']>, string> = {
    'allow-once': 'allow-once (this call)',
    'allow-task': `allow-task (this call and every later one ${escapedLine(approval.rule)} matches, for the rest of the task)`,
    deny: 'deny',
  };
  const pending = approval.status === 'PENDING';
  const facts: [string, string | null][] = [
    ['task', approval.taskId],
    ['project', approval.project],
    ['profile', approval.profile],
    ['attempt', String(approval.attempt)],
    ['tool', escapedLine(approval.tool)],
    ['rule', escapedLine(approval.rule)],
    ['deadline', `${approval.deadline}${pending ? ` (${formatTimeLeft(approval.deadline, now)})` : ''}`],
    ['created', approval.createdAt],
    ['answerers', pending ? `${approval.answerableBy}s and admins of project ${approval.project}` : null],
    [
      'answered',
      approval.answeredAt === null
        ? null
        : `${approval.answeredAt}${approval.answeredBy === null ? '' : ` by ${escapedLine(approval.answeredBy)}`}`,
    ],
    ['decision', approval.decision === null ? null : decision[approval.decision]],
  ];
  for (const [label, value] of facts)
    if (value !== null && value !== '') lines.push(`${palette.dim(label.padEnd(10))}${value}`);
  if (approval.message !== null) {
    const [first = '', ...rest] = escapeControls(approval.message).replace(/\s+$/, '').split('\n');
    lines.push(
      `${palette.dim('message'.padEnd(10))}${first}`,
      ...rest.map((line) => `${' '.repeat(10)}${line}`),
    );
  }
  lines.push(palette.dim('input'));
  const input = approval.input === undefined ? 'null' : JSON.stringify(approval.input, null, 2);
  for (const line of escapeControls(input).split('\n')) lines.push(`  ${line}`);
  return lines;
}

// The answer `allow` and `deny` print: what was decided about which call, in one line.
export function formatApprovalLine(approval: Approval, palette: Palette, now: number): string {
  const call = formatToolCall(approval);
  const where = palette.dim(` · approval ${approval.id} of task ${approval.taskId}`);
  const told =
    approval.message === null ? '' : palette.dim(` · the agent is told: ${escapedLine(approval.message)}`);
  const by = approval.answeredBy === null ? '' : ` by ${escapedLine(approval.answeredBy)}`;
  switch (approval.status) {
    case 'PENDING':
      return `${palette.yellow(`◷ ${call} waits for approval (${formatTimeLeft(approval.deadline, now)})`)}${where}`;
    case 'ALLOWED':
      return approval.decision === 'allow-task'
        ? `${palette.green(`✓ ${call} allowed for the task${by}, and every later call ${escapedLine(approval.rule)} matches`)}${where}`
        : `${palette.green(`✓ ${call} allowed once${by}`)}${where}`;
    case 'DENIED':
      return `${palette.red(`✗ ${call} denied${by}`)}${where}${told}`;
    case 'EXPIRED':
      return `${palette.yellow(`✗ ${call} not approved in time`)}${where}${
        approval.message === null ? '' : palette.dim(` · ${escapedLine(approval.message)}`)
      }`;
    default:
      return assertUnreachable(approval.status);
  }
}

function paintStatus(approval: Approval, palette: Palette): string {
  const text = palette.bold(approval.status);
  switch (approval.status) {
    case 'PENDING':
      return palette.yellow(text);
    case 'ALLOWED':
      return palette.green(text);
    case 'DENIED':
      return palette.red(text);
    case 'EXPIRED':
      return palette.yellow(text);
    default:
      return assertUnreachable(approval.status);
  }
}
