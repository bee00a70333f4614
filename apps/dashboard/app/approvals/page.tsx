'use client';

import { APPROVAL_ANSWER_ROLE, type Approval, type ApprovalList } from '@hangar/contracts';
import { useEffect, useState } from 'react';
import { ApprovalCard } from '../components/approvals';
import { ErrorNote } from '../components/bits';
import { describeAnswer } from '../lib/approvals';
import { useSession } from '../lib/session';
import { useApi } from '../lib/use-api';

// Tool calls of agents waiting for a person (docs/governance.md), in every project of the
// signed-in person's, soonest deadline first: one that waits holds its agent, whichever project
// the switcher shows. The page looks again every 5 s.
export default function ApprovalsPage() {
  const { can } = useSession();
  const pending = useApi<ApprovalList>('/approvals', { status: 'pending' });
  const [notice, setNotice] = useState<string | null>(null);
  const { reload } = pending;
  useEffect(() => {
    const timer = setInterval(() => void reload(), 5000);
    return () => clearInterval(timer);
  }, [reload]);
  const items = pending.data?.items ?? [];

  const answered = (approval: Approval) =>
    setNotice(`${describeAnswer(approval) ?? 'Answered'}: ${approval.tool} of task ${approval.taskId}.`);

  return (
    <>
      <h1>Approvals</h1>
      <p className="muted">
        Tool calls of agents that wait for a person, in all your projects, soonest deadline first. An operator
        or admin of the task&apos;s project answers; no answer by the deadline denies the call.
      </p>
      <ErrorNote message={pending.error} />
      {notice && (
        <p role="status" className="muted">
          {notice}
        </p>
      )}
      {!pending.data && !pending.error && <p className="muted">Loading…</p>}
      {pending.data && items.length === 0 && (
        <p className="panel muted" data-testid="approvals-empty">
          Nothing waits for an answer.
        </p>
      )}
      <div className="approvals">
        {items.map((approval) => (
          <div className="panel" key={approval.id}>
            <ApprovalCard
              approval={approval}
              mayAnswer={can(APPROVAL_ANSWER_ROLE, approval.project)}
              onChanged={() => void reload()}
              onAnswered={answered}
              showTask
            />
          </div>
        ))}
      </div>
    </>
  );
}
