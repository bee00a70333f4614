import type { Task, WebhookProvider } from '@hangar/contracts';

// Marks Hangar's own comments on GitHub (an HTML comment, not shown).
export const REPLY_MARKER = '<!-- hangar-reply -->';

// How every answer below opens: "Hangar task <id> <status>", bold or not. Jira's documents
// have no hidden markup, so its comments are known by this line.
const REPLY_HEADER = /^\*{0,2}Hangar\*{0,2} task \S+ [a-z_]+/;

// Whether a comment is one of Hangar's own answers: an answer that quotes "@hangar …" (the
// agent repeating the request) must never start another task, and so on for ever.
export function isHangarReply(text: string | null | undefined): boolean {
  if (typeof text !== 'string') return false;
  return text.includes(REPLY_MARKER) || REPLY_HEADER.test(text.trimStart());
}

function facts(task: Task): string {
  const parts: string[] = [];
  if (task.durationMs !== null) parts.push(`${Math.max(1, Math.round(task.durationMs / 1000))} s`);
  if (task.costUsd !== null) parts.push(`$${task.costUsd.toFixed(4)}`);
  if (task.numTurns !== null) parts.push(`${task.numTurns} turn${task.numTurns === 1 ? '' : 's'}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function outcome(task: Task): string {
  if (task.status === 'COMPLETED') return task.result?.trim() || '(the agent finished without a text answer)';
  const reason = task.error ?? task.status.toLowerCase();
  return task.result ? `${task.result.trim()}\n\n${reason}` : reason;
}

// What a finished task says where its webhook came from, in the provider's markup.
export function replyText(task: Task, provider: WebhookProvider, publicUrl?: string): string {
  const link = publicUrl ? `${publicUrl.replace(/\/+$/, '')}/tasks/${task.id}` : undefined;
  const status = task.status.toLowerCase();
  switch (provider) {
    case 'github': {
      const id = link ? `[\`${task.id}\`](${link})` : `\`${task.id}\``;
      return `${REPLY_MARKER}\n**Hangar** task ${id} ${status}${facts(task)}\n\n${outcome(task)}`;
    }
    case 'slack': {
      const id = link ? `<${link}|${task.id}>` : `\`${task.id}\``;
      return `*Hangar* task ${id} ${status}${facts(task)}\n\n${outcome(task)}`;
    }
    case 'jira':
    case 'sentry':
      return `Hangar task ${task.id} ${status}${facts(task)}\n\n${outcome(task)}${link ? `\n\n${link}` : ''}`;
    default: {
      const exhaustive: never = provider;
      return exhaustive;
    }
  }
}

// What a GitHub receiver answers someone whose request it will not act on, and why.
export function authorRefusalText(
  login: string | undefined,
  association: string,
  allowed: readonly string[],
): string {
  const who = login ? `@${login}` : 'The author';
  return `${REPLY_MARKER}\n${who}: Hangar started nothing. It acts for ${allowed.join(', ')} of this repository, and GitHub names you \`${association}\` here.`;
}
