import type { AnswerApprovalRequest, Approval, ApprovalAnswerDecision } from '@hangar/contracts';
import { api } from './api';

// Tool calls of agents waiting for a person (docs/governance.md): what the dashboard sends to
// answer one, and how an approval reads.

// What POST /approvals/:id/answer takes: a message only with a denial, and none when left empty
// (the gateway then tells the agent who denied it).
export function answerBody(decision: ApprovalAnswerDecision, message: string): AnswerApprovalRequest {
  const text = message.trim();
  return decision === 'deny' && text ? { decision, message: text } : { decision };
}

// The answered approval, or an ApiError: 409 once answered or past its deadline, 403 for a viewer.
export function answerApproval(
  id: string,
  decision: ApprovalAnswerDecision,
  message = '',
): Promise<Approval> {
  return api<Approval>(`/approvals/${encodeURIComponent(id)}/answer`, {
    method: 'POST',
    body: answerBody(decision, message),
  });
}

// Who answered and how, in a sentence; null while it waits.
export function describeAnswer(approval: Approval): string | null {
  const by = approval.answeredBy ? ` by ${approval.answeredBy}` : '';
  switch (approval.status) {
    case 'PENDING':
      return null;
    case 'ALLOWED':
      return approval.decision === 'allow-task' ? `Allowed for this task${by}` : `Allowed once${by}`;
    case 'DENIED':
      return `Denied${by}`;
    case 'EXPIRED':
      return 'Expired without an answer (the call was denied)';
  }
}

// How many lines and characters of a tool call's input show before it folds.
export const INPUT_PREVIEW_LINES = 12;
export const INPUT_PREVIEW_CHARS = 1200;

// The input as the agent sent it, as text a person can check: each field of an object on its
// line, a multi-line string (a script, a file's content) as its own lines, indented, rather than
// one JSON line of \n; anything else as indented JSON. The page shows it in a <pre> (React
// escapes it): an input is the agent's, and the agent may have been talked into writing markup,
// or text that reads otherwise than it runs — so invisible characters are shown as escapes.
export function inputText(input: unknown): { text: string; preview: string; folded: boolean } {
  const text = showInvisible(
    isRecord(input)
      ? Object.entries(input)
          .map(([key, value]) => `${key}:${fieldText(value)}`)
          .join('\n')
      : jsonText(input),
  );
  const lines = text.split('\n');
  const folded = lines.length > INPUT_PREVIEW_LINES || text.length > INPUT_PREVIEW_CHARS;
  const preview = folded
    ? `${lines.slice(0, INPUT_PREVIEW_LINES).join('\n').slice(0, INPUT_PREVIEW_CHARS)}\n…`
    : text;
  return { text, preview, folded };
}

function fieldText(value: unknown): string {
  const text = typeof value === 'string' ? value : jsonText(value);
  return text.includes('\n') ? `\n${text.replace(/^/gm, '  ')}` : ` ${text}`;
}

function jsonText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value, null, 2) ?? String(value));
}

// Control characters (C0 but newline and tab, DEL, C1), the bidirectional marks, overrides and
// isolates (which show a command in another order than it runs: "Trojan Source"), zero-width
// characters and the BOM, as their escapes (`\u202e`), the way the CLI prints them
// (apps/cli/src/render/terminal-text.ts): nothing hidden, nothing lost.
export function showInvisible(text: string): string {
  return Array.from(text, (character) => {
    const code = character.codePointAt(0) ?? 0;
    const invisible =
      (code < 0x20 && character !== '\n' && character !== '\t') ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x061c ||
      (code >= 0x200b && code <= 0x200f) ||
      (code >= 0x2028 && code <= 0x202e) ||
      (code >= 0x2060 && code <= 0x2069) ||
      code === 0xfeff;
    return invisible ? `\\u${code.toString(16).padStart(4, '0')}` : character;
  }).join('');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
  );
}

// Answering anywhere tells the navigation's count to look again.
export const APPROVALS_CHANGED = 'hangar:approvals-changed';

export function announceApprovalsChanged(): void {
  window.dispatchEvent(new Event(APPROVALS_CHANGED));
}
