'use client';

import {
  APPROVAL_ANSWER_ROLE,
  roleAtLeast,
  type Approval,
  type ApprovalAnswerDecision,
  type ApprovalList,
} from '@hangar/contracts';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { api, ApiError, describeError } from '../lib/api';
import {
  announceApprovalsChanged,
  answerApproval,
  APPROVALS_CHANGED,
  describeAnswer,
  inputText,
  showInvisible,
} from '../lib/approvals';
import { formatTime } from '../lib/format';
import { useSession } from '../lib/session';
import { ErrorNote } from './bits';

// A task's tool calls that waited, or wait, for a person: on the task page, below its summary.
// Nothing when the task has none.
export function ApprovalsPanel({
  approvals,
  error,
  mayAnswer,
  onChanged,
}: {
  approvals: Approval[] | undefined;
  error: string | null;
  mayAnswer: boolean;
  onChanged: () => void;
}) {
  const items = approvals ?? [];
  if (items.length === 0 && !error) return null;
  // Those that wait first (soonest deadline first), then the answered ones, newest first.
  const pending = items
    .filter((approval) => approval.status === 'PENDING')
    .sort((left, right) => left.deadline.localeCompare(right.deadline));
  const answered = items.filter((approval) => approval.status !== 'PENDING');
  return (
    <section className="panel" aria-labelledby="approvals-title">
      <h2 id="approvals-title">
        Approvals {pending.length > 0 && <span className="badge PENDING">{pending.length} waiting</span>}
      </h2>
      <ErrorNote message={error} />
      <div className="approvals">
        {[...pending, ...answered].map((approval) => (
          <ApprovalCard key={approval.id} approval={approval} mayAnswer={mayAnswer} onChanged={onChanged} />
        ))}
      </div>
    </section>
  );
}

// One approval, with the answer controls while it waits and the answer once it came.
// `showTask` names its task and project (the approvals page lists several tasks').
export function ApprovalCard({
  approval,
  mayAnswer,
  onChanged,
  onAnswered,
  showTask = false,
}: {
  approval: Approval;
  mayAnswer: boolean;
  onChanged: () => void;
  onAnswered?: (answered: Approval) => void;
  showTask?: boolean;
}) {
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function answer(decision: ApprovalAnswerDecision) {
    setBusy(true);
    setError(null);
    try {
      const answered = await answerApproval(approval.id, decision, message);
      setMessage('');
      onAnswered?.(answered);
      announceApprovalsChanged();
      onChanged();
    } catch (failure) {
      setError(describeError(failure));
      // Answered by someone else, or past its deadline: show what it is now.
      if (failure instanceof ApiError && failure.status === 409) {
        announceApprovalsChanged();
        onChanged();
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <ApprovalView
      approval={approval}
      mayAnswer={mayAnswer}
      showTask={showTask}
      message={message}
      busy={busy}
      error={error}
      onMessage={setMessage}
      onAnswer={(decision) => void answer(decision)}
    />
  );
}

// What ApprovalCard shows, from its state.
export function ApprovalView({
  approval,
  mayAnswer,
  showTask,
  message,
  busy,
  error,
  onMessage,
  onAnswer,
}: {
  approval: Approval;
  mayAnswer: boolean;
  showTask: boolean;
  message: string;
  busy: boolean;
  error: string | null;
  onMessage: (message: string) => void;
  onAnswer: (decision: ApprovalAnswerDecision) => void;
}) {
  const waits = approval.status === 'PENDING';
  const input = inputText(approval.input);
  const answer = describeAnswer(approval);
  return (
    <article
      className={`approval${waits ? '' : ' answered'}`}
      aria-label={`Approval of ${approval.tool}`}
      data-testid="approval"
      data-approval-id={approval.id}
      data-status={approval.status}
    >
      <div className="row">
        <strong>{showInvisible(approval.tool)}</strong>
        <span className={`badge ${approval.status}`}>{approval.status}</span>
        {showTask && (
          <span className="muted">
            task <Link href={`/tasks/${approval.taskId}`}>{approval.taskId}</Link> · project{' '}
            {approval.project} · profile {approval.profile}
          </span>
        )}
      </div>
      <dl className="approval-facts">
        <div>
          <dt className="muted">Rule</dt>
          <dd>
            <code>{approval.rule}</code>
          </dd>
        </div>
        <div>
          <dt className="muted">Asked</dt>
          <dd>{formatTime(approval.createdAt)}</dd>
        </div>
        <div>
          <dt className="muted">
            {waits ? 'Deadline' : approval.status === 'EXPIRED' ? 'Expired' : 'Answered'}
          </dt>
          <dd>
            {waits ? (
              <time dateTime={approval.deadline}>{formatTime(approval.deadline)}</time>
            ) : (
              formatTime(approval.answeredAt)
            )}
          </dd>
        </div>
      </dl>
      <pre data-testid="approval-input" aria-label={`Input of ${approval.tool}`}>
        {input.preview}
      </pre>
      {input.folded && (
        <details>
          <summary>
            Whole input ({input.text.split('\n').length} lines, {input.text.length} characters)
          </summary>
          <pre>{input.text}</pre>
        </details>
      )}
      {answer && (
        <p data-testid="approval-answer">
          {answer}
          {approval.answeredAt && approval.status !== 'EXPIRED'
            ? ` at ${formatTime(approval.answeredAt)}`
            : ''}
          {approval.message && (
            <>
              {approval.status === 'DENIED' ? '. Told the agent: ' : ': '}
              <q>{approval.message}</q>
            </>
          )}
        </p>
      )}
      {waits && mayAnswer && (
        <form
          className="approval-answer"
          aria-label={`Answer the ${approval.tool} call`}
          onSubmit={(event) => {
            event.preventDefault();
            onAnswer('deny');
          }}
        >
          <div className="row">
            <button type="button" disabled={busy} onClick={() => onAnswer('allow-once')}>
              Allow once
            </button>
            <button type="button" className="ghost" disabled={busy} onClick={() => onAnswer('allow-task')}>
              Allow for this task
            </button>
            <label className="inline-field">
              <span>Message for the agent</span>
              <input
                name="message"
                value={message}
                maxLength={2000}
                placeholder="optional, with Deny"
                onChange={(event) => onMessage(event.target.value)}
              />
            </label>
            <button type="submit" className="danger" disabled={busy}>
              Deny
            </button>
          </div>
          <p className="muted hint">
            Allow for this task also allows, until the task ends, every later call that matches{' '}
            <code>{approval.rule}</code>. No answer by the deadline denies the call.
          </p>
        </form>
      )}
      {waits && !mayAnswer && (
        <p className="muted">
          An {APPROVAL_ANSWER_ROLE} of project {approval.project} answers this.
        </p>
      )}
      <ErrorNote message={error} />
    </article>
  );
}

// The number of approvals waiting for the signed-in person (in the projects where they may
// answer), next to Approvals in the navigation. It looks again every 15 s and after an answer.
export const APPROVAL_COUNT_POLL_MS = 15_000;

export function ApprovalCount() {
  const { me } = useSession();
  const [count, setCount] = useState(0);
  const answerable = (me?.projects ?? [])
    .filter((project) => roleAtLeast(project.role, APPROVAL_ANSWER_ROLE))
    .map((project) => project.slug)
    .join(' ');

  useEffect(() => {
    if (!answerable) return;
    const slugs = answerable.split(' ');
    let stopped = false;
    const load = async () => {
      try {
        const list = await api<ApprovalList>('/approvals', { query: { status: 'pending' } });
        if (!stopped) setCount(list.items.filter((approval) => slugs.includes(approval.project)).length);
      } catch {
        // The count is a hint: the page itself says what failed.
      }
    };
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, APPROVAL_COUNT_POLL_MS);
    const onChanged = () => void load();
    window.addEventListener(APPROVALS_CHANGED, onChanged);
    return () => {
      stopped = true;
      clearInterval(timer);
      window.removeEventListener(APPROVALS_CHANGED, onChanged);
    };
  }, [answerable]);

  if (count === 0) return null;
  return (
    <span
      className="badge PENDING nav-count"
      data-testid="approval-count"
      title={`${count} waiting for an answer`}
    >
      {count > 99 ? '99+' : count}
    </span>
  );
}
