import type { AgentEvent, TopicEvent } from '@hangar/contracts';

// A task's events for a person: text as Markdown, each tool call a card with its result, retries
// and stderr marked, thinking folded away. Events arrive in sequence order, each once. What a
// subagent did names the tool call that started it (`parent`: Claude Code's Task), and is shown
// inside that call's card.
export type Entry =
  | { kind: 'text'; seq: number; text: string; parent?: string }
  | { kind: 'thinking'; seq: number; text: string; parent?: string }
  | {
      kind: 'tool';
      seq: number;
      id: string;
      name: string;
      input: unknown;
      result?: string;
      isError?: boolean;
      parent?: string;
    }
  | { kind: 'retry'; seq: number; text: string }
  // A budget this task's calls count against reached its soft limit.
  | { kind: 'warning'; seq: number; text: string }
  | { kind: 'stderr'; seq: number; text: string }
  // A line over the runner's event cap: its size, and the start of it that was kept.
  | { kind: 'truncated'; seq: number; stream: 'stdout' | 'stderr'; bytes: number; head: string }
  | { kind: 'status'; seq: number; text: string }
  | { kind: 'init'; seq: number; text: string }
  | { kind: 'result'; seq: number; text: string; isError: boolean };

export function appendEvents(entries: Entry[], events: TopicEvent[]): Entry[] {
  const next = [...entries];
  for (const { seq, type, data } of events) {
    // A task topic carries the task's own events (libs/contracts AgentEvent).
    const event = { type, data } as AgentEvent;
    switch (event.type) {
      case 'assistant.text':
        next.push({ kind: 'text', seq, text: event.data.text, ...parentOf(event.data) });
        break;
      case 'assistant.thinking':
        next.push({ kind: 'thinking', seq, text: event.data.text, ...parentOf(event.data) });
        break;
      case 'tool.use':
        next.push({
          kind: 'tool',
          seq,
          id: event.data.toolUseId,
          name: event.data.name,
          input: event.data.input,
          ...parentOf(event.data),
        });
        break;
      case 'tool.result': {
        const { toolUseId, content, isError } = event.data;
        const index = next.findIndex((entry) => entry.kind === 'tool' && entry.id === toolUseId);
        const card = index >= 0 ? (next[index] as Extract<Entry, { kind: 'tool' }>) : undefined;
        if (card) next[index] = { ...card, result: content, isError };
        else
          next.push({
            kind: 'tool',
            seq,
            id: toolUseId,
            name: 'tool',
            input: undefined,
            result: content,
            isError,
            ...parentOf(event.data),
          });
        break;
      }
      case 'api.retry': {
        const { attempt, maxRetries, status, error } = event.data;
        const count =
          attempt === undefined ? '' : ` ${attempt}${maxRetries === undefined ? '' : ` of ${maxRetries}`}`;
        next.push({
          kind: 'retry',
          seq,
          text: `API retry${count}${status ? ` (HTTP ${status})` : ''}${error ? `: ${error}` : ''}`,
        });
        break;
      }
      case 'stderr':
        next.push({ kind: 'stderr', seq, text: event.data.line });
        break;
      case 'output.truncated':
        next.push({ kind: 'truncated', seq, ...event.data });
        break;
      case 'task.status':
        next.push({
          kind: 'status',
          seq,
          text: `${event.data.status}${event.data.reason ? ` — ${event.data.reason}` : ''}`,
        });
        break;
      case 'system.init':
        next.push({
          kind: 'init',
          seq,
          text: `Session started${event.data.model ? ` with ${event.data.model}` : ''}, ${event.data.tools.length} tools`,
        });
        break;
      case 'result':
        next.push({
          kind: 'result',
          seq,
          // The final text is the last assistant text already: only an error's is shown again.
          text: event.data.isError && event.data.result ? event.data.result : '',
          isError: event.data.isError,
        });
        break;
      case 'budget.warning':
        next.push({
          kind: 'warning',
          seq,
          text:
            `${event.data.label}: ${event.data.softPercent}% of its limit reached ` +
            `($${event.data.spentUsd.toFixed(4)}, ${event.data.spentTokens} tokens spent)`,
        });
        break;
      case 'approval.requested':
        next.push({
          kind: 'warning',
          seq,
          text: `${event.data.tool} waits for approval (${event.data.rule}) until ${event.data.deadline}`,
        });
        break;
      case 'approval.answered':
        next.push({
          kind: 'warning',
          seq,
          text:
            event.data.status === 'ALLOWED'
              ? `${event.data.tool} allowed${event.data.decision === 'allow-task' ? ' for the task' : ''}${event.data.by ? ` by ${event.data.by}` : ''}`
              : `${event.data.tool} ${event.data.status === 'DENIED' ? 'denied' : 'not approved in time'}${event.data.by ? ` by ${event.data.by}` : ''}${event.data.message ? `: ${event.data.message}` : ''}`,
        });
        break;
      case 'unknown':
        // Output the parser does not know is kept in the events, not shown.
        break;
    }
  }
  return next;
}

function parentOf(data: { parentToolUseId?: string }): { parent?: string } {
  return data.parentToolUseId ? { parent: data.parentToolUseId } : {};
}

// Each tool call's subagent's entries, by the call's id; the rest (top level, or a subagent's
// whose call is not in the transcript) under ''.
export function nestedEntries(entries: readonly Entry[]): Map<string, Entry[]> {
  const calls = new Set(entries.flatMap((entry) => (entry.kind === 'tool' ? [entry.id] : [])));
  const nested = new Map<string, Entry[]>();
  for (const entry of entries) {
    const parent = 'parent' in entry && entry.parent && calls.has(entry.parent) ? entry.parent : '';
    let list = nested.get(parent);
    if (!list) nested.set(parent, (list = []));
    list.push(entry);
  }
  return nested;
}
