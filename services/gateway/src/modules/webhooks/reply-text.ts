import type { Approval, Task, WebhookProvider } from '@hangar/contracts';

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

// A tool call of the thread's task waiting for a person (docs/governance.md), and how to answer
// it there. It opens like every answer (a task's header), so its "@hangar approve" is never read
// as a request.
export function approvalRequestText(
  approval: Approval,
  provider: WebhookProvider,
  options: { prefix: string; publicUrl?: string | undefined },
): string {
  const link = options.publicUrl
    ? `${options.publicUrl.replace(/\/+$/, '')}/tasks/${approval.taskId}`
    : undefined;
  const call = toolCallSummary(approval);
  const how =
    `Answer with \`${options.prefix} approve ${approval.id}\` (this call), ` +
    `\`${options.prefix} approve-all ${approval.id}\` (every such call of the task) or ` +
    `\`${options.prefix} deny ${approval.id} <why>\` before ${approval.deadline}; ` +
    'no answer by then denies it.';
  switch (provider) {
    case 'github': {
      const id = link ? `[\`${approval.taskId}\`](${link})` : `\`${approval.taskId}\``;
      return `${REPLY_MARKER}\n**Hangar** task ${id} waiting: the agent asks to run ${approval.tool} (it matches \`${approval.rule}\`):\n\n\`\`\`\n${call}\n\`\`\`\n\n${how}`;
    }
    case 'slack': {
      const id = link ? `<${link}|${approval.taskId}>` : `\`${approval.taskId}\``;
      return `*Hangar* task ${id} waiting: the agent asks to run ${approval.tool} (it matches \`${approval.rule}\`):\n\`\`\`${call}\`\`\`\n${how}`;
    }
    case 'jira':
    case 'sentry':
      return `Hangar task ${approval.taskId} waiting: the agent asks to run ${approval.tool} (it matches ${approval.rule}):\n\n${call}\n\n${how}${link ? `\n\n${link}` : ''}`;
    default: {
      const exhaustive: never = provider;
      return exhaustive;
    }
  }
}

// What an answer given in the thread did (or why it could not).
export function approvalAnswerText(provider: WebhookProvider, taskId: string, text: string): string {
  switch (provider) {
    case 'github':
      return `${REPLY_MARKER}\n**Hangar** task \`${taskId}\` approval: ${text}`;
    case 'slack':
      return `*Hangar* task \`${taskId}\` approval: ${text}`;
    case 'jira':
    case 'sentry':
      return `Hangar task ${taskId} approval: ${text}`;
    default: {
      const exhaustive: never = provider;
      return exhaustive;
    }
  }
}

// The call as a person reads it: a Bash command, a file path, a URL, or the input as JSON; one
// fence's worth (no ``` inside), at most 2,000 characters.
function toolCallSummary(approval: Approval): string {
  const input = (approval.input ?? {}) as Record<string, unknown>;
  const text =
    ['command', 'file_path', 'notebook_path', 'url']
      .map((key) => input[key])
      .find((value) => typeof value === 'string') ?? JSON.stringify(input, null, 2);
  const fenced = String(text).replaceAll('```', "'''");
  return fenced.length > 2000 ? `${fenced.slice(0, 2000)}…` : fenced;
}
