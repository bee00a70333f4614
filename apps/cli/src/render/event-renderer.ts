import path from 'node:path';
import {
  type AgentEvent,
  type AgentEventOf,
  assertUnreachable,
  TERMINAL_STATUSES,
  type TaskStatus,
} from '@hangar/contracts';
import type { Palette } from '../output/palette';
import { escapeControls } from './terminal-text';
import { firstLine, formatCount, formatDuration, truncate } from './format-values';
import { toolCallArgument } from './tool-call';

export interface EventRendererOptions {
  palette: Palette;
  // Lines of a tool result to show before folding the rest.
  resultLines?: number;
  maxLineLength?: number;
}

// Turns task events into the lines a person watching `hangar run --follow` reads.
export class EventRenderer {
  private cwd: string | undefined;
  private readonly resultLines: number;
  private readonly maxLineLength: number;

  constructor(private readonly options: EventRendererOptions) {
    this.resultLines = options.resultLines ?? 4;
    this.maxLineLength = options.maxLineLength ?? 160;
  }

  // Everything in an event came from the agent (or what it ran): its control characters are
  // shown as escapes, never sent to the terminal (terminal-text.ts).
  render(raw: AgentEvent): string[] {
    const { palette } = this.options;
    const event = { ...raw, data: escapedDeep(raw.data) } as AgentEvent;
    switch (event.type) {
      case 'task.status':
        return [this.renderStatus(event.data.status, event.data.reason)];
      case 'system.init':
        return this.renderInit(event);
      case 'assistant.text':
        return event.data.text.replace(/\s+$/, '').split('\n');
      case 'assistant.thinking':
        return this.fold(event.data.text, 3).map((line, index) =>
          palette.dim(palette.italic(`${index === 0 ? '✻ ' : '  '}${line}`)),
        );
      case 'tool.use':
        return [`${palette.cyan('→')} ${palette.bold(event.data.name)}${this.toolArgument(event)}`];
      case 'tool.result':
        return this.renderToolResult(event);
      case 'api.retry':
        return [palette.yellow(`↻ ${describeRetry(event)}`)];
      case 'result':
        return this.renderResult(event);
      case 'stderr':
        return [palette.dim(`stderr: ${truncate(event.data.line, this.maxLineLength)}`)];
      case 'output.truncated':
        return [
          palette.yellow(
            `${event.data.stream} line truncated: ${formatCount(event.data.bytes)} bytes, ` +
              `first ${formatCount(Buffer.byteLength(event.data.head))} kept`,
          ),
        ];
      case 'budget.warning':
        return [
          palette.yellow(
            `⚠ ${event.data.label}: ${event.data.softPercent}% reached ` +
              `($${event.data.spentUsd.toFixed(4)} spent, ${formatCount(event.data.spentTokens)} tokens)`,
          ),
        ];
      case 'approval.requested':
        return [
          palette.yellow(
            `◷ ${event.data.tool} waits for approval (${event.data.rule}) until ${event.data.deadline}` +
              ` — hangar approvals allow|deny ${event.data.approvalId}`,
          ),
        ];
      case 'approval.answered':
        return [this.renderApprovalAnswer(event)];
      case 'unknown':
        return [palette.dim(`? ${truncate(safeStringify(event.data.raw), this.maxLineLength)}`)];
      default:
        return assertUnreachable(event);
    }
  }

  private renderStatus(status: TaskStatus, reason: string | undefined): string {
    const { palette } = this.options;
    const suffix = reason === undefined || reason === '' ? '' : ` (${reason})`;
    const text = `● ${status.toLowerCase()}${suffix}`;
    if (!TERMINAL_STATUSES.includes(status)) return palette.dim(text);
    return status === 'COMPLETED'
      ? palette.green(text)
      : status === 'CANCELLED'
        ? palette.yellow(text)
        : palette.red(text);
  }

  private renderApprovalAnswer(event: AgentEventOf<'approval.answered'>): string {
    const { palette } = this.options;
    const { status, decision, by, message, tool } = event.data;
    const who = by ? ` by ${by}` : '';
    if (status === 'ALLOWED')
      return palette.green(`✓ ${tool} allowed${decision === 'allow-task' ? ' for the task' : ''}${who}`);
    const why = message ? `: ${truncate(firstLine(message), this.maxLineLength)}` : '';
    return status === 'DENIED'
      ? palette.red(`✗ ${tool} denied${who}${why}`)
      : palette.yellow(`✗ ${tool} not approved in time${why}`);
  }

  private renderInit(event: AgentEventOf<'system.init'>): string[] {
    this.cwd = event.data.cwd;
    const facts = [
      event.data.model === undefined ? undefined : `model ${event.data.model}`,
      `${event.data.tools.length} tools`,
      event.data.cwd === undefined ? undefined : `in ${event.data.cwd}`,
    ].filter((fact): fact is string => fact !== undefined);
    return [this.options.palette.dim(`● session ${event.data.sessionId} · ${facts.join(' · ')}`)];
  }

  private renderToolResult(event: AgentEventOf<'tool.result'>): string[] {
    const { palette } = this.options;
    const paint = event.data.isError ? palette.red : palette.dim;
    const content = event.data.content.replace(/\s+$/, '');
    if (content === '') return [paint('  ⎿ (no output)')];
    return this.fold(content, this.resultLines).map((line, index) =>
      paint(`  ${index === 0 ? '⎿' : ' '} ${line}`),
    );
  }

  private renderResult(event: AgentEventOf<'result'>): string[] {
    const { palette } = this.options;
    if (!event.data.isError) return [];
    const detail =
      event.data.result === null ? '' : `: ${truncate(firstLine(event.data.result), this.maxLineLength)}`;
    const subtype = event.data.subtype === 'success' ? '' : ` (${event.data.subtype})`;
    return [palette.red(`✗ the agent ended with an error${subtype}${detail}`)];
  }

  // `Write(hello.txt)`, `Bash(ls -la)`: the one argument that says what the call does.
  private toolArgument(event: AgentEventOf<'tool.use'>): string {
    const argument = toolCallArgument(event.data.name, event.data.input, (file) => this.relative(file));
    return argument === undefined || argument === '' ? '' : `(${truncate(firstLine(argument), 80)})`;
  }

  private relative(file: string | undefined): string | undefined {
    if (file === undefined || this.cwd === undefined || !path.isAbsolute(file)) return file;
    const relative = path.relative(this.cwd, file);
    return relative.startsWith('..') || relative === '' ? file : relative;
  }

  private fold(text: string, keep: number): string[] {
    const lines = text.split('\n').map((line) => truncate(line, this.maxLineLength));
    if (lines.length <= keep) return lines;
    return [...lines.slice(0, keep), `… +${lines.length - keep} lines`];
  }
}

function describeRetry(event: AgentEventOf<'api.retry'>): string {
  const { attempt, maxRetries, delayMs, status, error } = event.data;
  const parts = ['API request failed'];
  const cause = [status === null || status === undefined ? undefined : String(status), error]
    .filter(Boolean)
    .join(' ');
  if (cause !== '') parts[0] += ` (${cause})`;
  if (attempt !== undefined)
    parts.push(`retry ${attempt}${maxRetries === undefined ? '' : `/${maxRetries}`}`);
  if (delayMs !== undefined) parts.push(`in ${formatDuration(delayMs)}`);
  return parts.join(' · ');
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function escapedDeep(value: unknown): unknown {
  if (typeof value === 'string') return escapeControls(value);
  if (Array.isArray(value)) return value.map(escapedDeep);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, escapedDeep(item)]));
  return value;
}
