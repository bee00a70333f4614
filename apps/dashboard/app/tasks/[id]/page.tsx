'use client';

import {
  isTerminalStatus,
  type AnomalyList,
  type ApprovalList,
  type Task,
  type TaskDiff,
  type TopicEvent,
} from '@hangar/contracts';
import Link from 'next/link';
import { useParams, useRouter } from 'next/navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApprovalsPanel } from '../../components/approvals';
import { DiffView } from '../../components/diff-view';
import { StatusBadge } from '../../components/status-badge';
import { TraceLink } from '../../components/trace-link';
import { Transcript } from '../../components/transcript';
import { appendEvents, type Entry } from '../../lib/transcript-entries';
import { api, ApiError, describeError } from '../../lib/api';
import { formatCost, formatDuration, formatTime, formatTokens } from '../../lib/format';
import { useSession } from '../../lib/session';
import { useTopic } from '../../lib/socket';
import { useApi } from '../../lib/use-api';
import { announceApprovalsChanged } from '../../lib/approvals';
import { ErrorNote, WaitingNote } from '../../components/bits';

export default function TaskPage() {
  const { id } = useParams<{ id: string }>();
  const router = useRouter();
  const { can } = useSession();
  const [task, setTask] = useState<Task | null>(null);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [diff, setDiff] = useState<TaskDiff | null | 'none'>(null);
  const [error, setError] = useState<string | null>(null);
  const [acting, setActing] = useState(false);
  const approvals = useApi<ApprovalList>('/approvals', { task: id, status: 'all' });
  const finishedProject = task && isTerminalStatus(task.status) ? task.project : null;
  // Found by the metrics service once the ended task's sample is stored (docs/alerts.md).
  const anomalies = useApi<AnomalyList>(finishedProject ? '/anomalies' : null, {
    task: id,
    project: finishedProject,
  });
  const approvalsTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const mayOperate = task ? can('operator', task.project) : false;
  const finished = task ? isTerminalStatus(task.status) : false;

  const load = useCallback(async () => {
    try {
      setTask(await api<Task>(`/tasks/${id}`));
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  // The transcript from the first event; every status change reloads the task's numbers, and
  // an approval asked or answered the approvals and the task (whether it waits).
  const state = useTopic(task ? `task:${id}` : null, (events: TopicEvent[]) => {
    setEntries((current) => appendEvents(current, events));
    if (events.some((event) => event.type === 'task.status' || event.type === 'result')) void load();
    if (events.some((event) => event.type === 'approval.requested' || event.type === 'approval.answered')) {
      // One reload for a burst (the backlog comes in batches).
      clearTimeout(approvalsTimer.current);
      approvalsTimer.current = setTimeout(() => {
        void approvals.reload();
        void load();
        announceApprovalsChanged();
      }, 250);
    }
  });
  useEffect(() => () => clearTimeout(approvalsTimer.current), []);

  useEffect(() => {
    if (!finished || !task?.repository) return;
    api<TaskDiff>(`/tasks/${id}/diff`).then(setDiff, (failure: unknown) => {
      if (failure instanceof ApiError && (failure.status === 404 || failure.status === 409)) setDiff('none');
      else setError(describeError(failure));
    });
  }, [finished, task?.repository, id]);

  async function act(action: 'cancel' | 'retry') {
    setActing(true);
    setError(null);
    try {
      const answer = await api<Task>(`/tasks/${id}/${action}`, { method: 'POST' });
      if (action === 'retry') router.push(`/tasks/${answer.id}`);
      else setTask(answer);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setActing(false);
    }
  }

  if (!task) {
    return error ? (
      <p role="alert" className="error">
        {error}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );
  }

  return (
    <>
      <p>
        <Link href="/tasks">← Tasks</Link>
      </p>
      <div className="row">
        <h1 style={{ marginRight: 'auto' }}>Task {task.id}</h1>
        {mayOperate && !finished && (
          <button type="button" className="danger" disabled={acting} onClick={() => void act('cancel')}>
            Cancel
          </button>
        )}
        {mayOperate && finished && (
          <button type="button" disabled={acting} onClick={() => void act('retry')}>
            Retry
          </button>
        )}
      </div>
      <ErrorNote message={error} />
      <section className="panel" aria-label="Summary">
        <dl className="grid">
          <div>
            <dt className="muted">Status</dt>
            <dd data-testid="task-status">
              <StatusBadge status={task.status} />
              <WaitingNote waiting={task.waiting} />
            </dd>
          </div>
          <div>
            <dt className="muted">Cost</dt>
            <dd>{formatCost(task.costUsd)}</dd>
          </div>
          <div>
            <dt className="muted">Turns</dt>
            <dd>{task.numTurns ?? '—'}</dd>
          </div>
          <div>
            <dt className="muted">Duration</dt>
            <dd>{formatDuration(task.durationMs)}</dd>
          </div>
          <div>
            <dt className="muted">Tokens</dt>
            <dd>
              {task.usage
                ? `in ${formatTokens(task.usage.inputTokens)} · out ${formatTokens(task.usage.outputTokens)} · cache read ${formatTokens(task.usage.cacheReadTokens)} · cache write ${formatTokens(task.usage.cacheCreationTokens)}`
                : '—'}
            </dd>
          </div>
          <div>
            <dt className="muted">Profile</dt>
            <dd>{task.profile}</dd>
          </div>
          <div>
            <dt className="muted">Created</dt>
            <dd>{formatTime(task.createdAt)}</dd>
          </div>
          <div>
            <dt className="muted">Repository</dt>
            <dd>{task.repository ? `${task.repository}${task.ref ? ` @ ${task.ref}` : ''}` : '—'}</dd>
          </div>
          <div>
            <dt className="muted">Trace</dt>
            <dd>
              <TraceLink traceId={task.traceId} />
            </dd>
          </div>
        </dl>
        <ErrorNote message={task.error} />
        {(anomalies.data?.items ?? []).map((anomaly) => (
          <p key={anomaly.id} className="note" role="status" data-testid="task-anomaly">
            Far outside its profile&apos;s usual: {anomaly.metric.replace('_', ' ')}{' '}
            {anomaly.value.toPrecision(3)}, {(anomaly.value / anomaly.median).toFixed(1)}× the median of its
            last {anomaly.baselineTasks} tasks.
          </p>
        ))}
        <details>
          <summary>Prompt</summary>
          <pre>{task.prompt}</pre>
        </details>
      </section>
      <ApprovalsPanel
        approvals={approvals.data?.items}
        error={approvals.error}
        mayAnswer={mayOperate}
        onChanged={() => {
          void approvals.reload();
          void load();
        }}
      />
      <Transcript entries={entries} live={state === 'live' && !finished} />
      {diff && diff !== 'none' && <DiffView diff={diff} />}
      {diff === 'none' && <p className="muted">No changes recorded.</p>}
    </>
  );
}
