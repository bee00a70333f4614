import { HangarError, type Condition, type WebhookCommand } from '@hangar/contracts';
import { compilePattern, patternError, patternFound } from './condition-pattern';
import type { InboundEvent } from './inbound-event';

export interface CommandMatch {
  command: WebhookCommand;
  // What templates and conditions see: the payload and `hangar`.
  variables: Record<string, unknown>;
}

export type MatchResult = { matched: CommandMatch } | { matched: null; reason: string };

// Reads a dotted path; `*` maps over an array. Hand-written: paths are part of our stored
// command language, and JSONPath's script expressions are a risk we do not need.
export function valuesAt(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root];
  for (const segment of path.split('.')) {
    const next: unknown[] = [];
    for (const value of current) {
      if (segment === '*') {
        if (Array.isArray(value)) next.push(...(value as unknown[]));
      } else if (value !== null && typeof value === 'object' && Object.hasOwn(value, segment)) {
        next.push((value as Record<string, unknown>)[segment]);
      }
    }
    current = next;
  }
  return current;
}

function scalar(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function conditionHolds(condition: Condition, variables: Record<string, unknown>): boolean {
  const found = valuesAt(variables, condition.path).filter((value) => value !== undefined);
  const expected = condition.value;
  switch (condition.op) {
    case 'exists':
      return found.some((value) => value !== null);
    case 'missing':
      return !found.some((value) => value !== null);
    case 'equals':
      return found.some((value) => scalar(value) === scalar(expected));
    case 'notEquals':
      return !found.some((value) => scalar(value) === scalar(expected));
    case 'contains':
      return found.some((value) =>
        Array.isArray(value)
          ? value.some((item) => scalar(item) === scalar(expected))
          : typeof value === 'string' && value.includes(String(expected)),
      );
    case 'matches': {
      const pattern = compileStored(String(expected), condition.path);
      return found.some((value) => typeof value === 'string' && patternFound(pattern, value));
    }
    case 'in': {
      const options = (Array.isArray(expected) ? expected : []).map(scalar);
      return found.some((value) => options.includes(scalar(value)));
    }
    default: {
      const exhaustive: never = condition.op;
      return exhaustive;
    }
  }
}

// A configuration stored before patterns were RE2 may hold one RE2 refuses: say so, once, rather
// than have the delivery retried.
function compileStored(source: string, path: string) {
  try {
    return compilePattern(source);
  } catch {
    throw new HangarError(
      'INVALID_COMMAND',
      `the condition on ${path}: ${patternError(source) ?? 'unusable'}`,
    );
  }
}

function appliesToEvent(command: WebhookCommand, event: string): boolean {
  if (command.events.length === 0) return true;
  return command.events.some((name) => name === event || event.startsWith(`${name}.`));
}

// The words that call a command: its name and aliases.
function callsCommand(command: WebhookCommand, word: string): boolean {
  return command.name === word || command.aliases.includes(word);
}

// What the trigger found, or undefined when it does not fire: the command word and its text.
function fire(command: WebhookCommand, event: InboundEvent): { word: string; args: string } | undefined {
  const trigger = command.trigger;
  switch (trigger.type) {
    case 'mention': {
      const mention = event.mention;
      if (!mention) return undefined;
      if (callsCommand(command, mention.word)) return mention;
      // A catch-all (`*`) takes the whole text after the prefix as its arguments.
      if (command.name === '*')
        return { word: '', args: [mention.word, mention.args].filter(Boolean).join(' ') };
      return undefined;
    }
    case 'slash':
      return event.slash && (command.name === '*' || callsCommand(command, event.slash.command))
        ? { word: event.slash.command, args: event.slash.args }
        : undefined;
    case 'label':
      return event.labelsAdded.some((label) => label.toLowerCase() === trigger.label.toLowerCase())
        ? { word: trigger.label, args: '' }
        : undefined;
    case 'status':
      return event.statusTo !== undefined && event.statusTo.toLowerCase() === trigger.status.toLowerCase()
        ? { word: trigger.status, args: '' }
        : undefined;
    case 'event':
      return { word: '', args: '' };
    default: {
      const exhaustive: never = trigger;
      return exhaustive;
    }
  }
}

// The first command, in order, whose events, trigger and conditions all hold.
export function matchCommand(
  commands: WebhookCommand[],
  event: InboundEvent,
  deliveryId: string,
): MatchResult {
  const tried: string[] = [];
  for (const command of commands) {
    if (!appliesToEvent(command, event.event)) continue;
    const fired = fire(command, event);
    if (!fired) continue;
    const variables: Record<string, unknown> = {
      ...event.payload,
      hangar: {
        event: event.event,
        command: command.name,
        word: fired.word,
        args: fired.args,
        text: [fired.word, fired.args].filter(Boolean).join(' '),
        deliveryId,
        title: event.title ?? null,
        repository: event.repository ?? null,
      },
    };
    const failed = command.conditions.find((condition) => !conditionHolds(condition, variables));
    if (failed) {
      tried.push(
        `${command.name}: ${failed.path} ${failed.op} ${failed.value === undefined ? '' : JSON.stringify(failed.value)}`.trim(),
      );
      continue;
    }
    return { matched: { command, variables } };
  }
  const why = tried.length > 0 ? `conditions did not hold (${tried.join('; ')})` : describeMiss(event);
  return { matched: null, reason: `no command matched ${event.event}: ${why}` };
}

function describeMiss(event: InboundEvent): string {
  if (event.mention) return `no command is called "${event.mention.word}"`;
  if (event.slash) return `no command handles /${event.slash.command}`;
  if (event.labelsAdded.length > 0) return `no command for label ${event.labelsAdded.join(', ')}`;
  if (event.statusTo) return `no command for status ${event.statusTo}`;
  return 'it does not address Hangar (no mention, slash command, label or status it listens for)';
}
