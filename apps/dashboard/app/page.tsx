'use client';

import type { RunnersOverview, TaskPage, TopicEvent } from '@hangar/contracts';
import Link from 'next/link';
import { useEffect, useMemo, useRef, useState } from 'react';
import { StatusBadge } from './components/status-badge';
import { formatCost, formatTime } from './lib/format';
import { useProject } from './lib/session';
import { useTopic } from './lib/socket';
import { useApi } from './lib/use-api';

export default function OverviewPage() {
  const project = useProject();
  const startOfDay = useMemo(() => {
    const day = new Date();
    day.setHours(0, 0, 0, 0);
    return day.toISOString();
  }, []);
  const latest = useApi<TaskPage>('/tasks', { project: project.slug, limit: 10 });
  const runners = useApi<RunnersOverview>('/runners', { project: project.slug });
  const today = useApi<TaskPage>('/tasks', { project: project.slug, createdAfter: startOfDay, limit: 200 });
  const reloadTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const [live, setLive] = useState<{ queued: number; running: number } | null>(null);

  // Counts live from the project topic: its backlog (the last 10,000 changes) ends with the
  // current counts, and each change after it updates them and the latest tasks.
  useTopic(`project:${project.slug}`, (events: TopicEvent[]) => {
    const last = events[events.length - 1]?.data as
      { counts?: { queued: number; running: number } } | undefined;
    if (last?.counts) setLive(last.counts);
    // One reload for a burst (the backlog comes in batches of up to 100).
    clearTimeout(reloadTimer.current);
    reloadTimer.current = setTimeout(() => void latest.reload(), 250);
  });
  useEffect(() => () => clearTimeout(reloadTimer.current), []);

  // Until the topic's backlog is in: the counts Postgres has now.
  const counts = live ?? runners.data?.tasks ?? { queued: 0, running: 0 };
  const todayCost = today.data?.items.reduce((sum, task) => sum + (task.costUsd ?? 0), 0) ?? 0;
  const hours = Math.max(1, (Date.now() - new Date(startOfDay).getTime()) / 3_600_000);

  return (
    <>
      <h1>Overview — {project.name}</h1>
      <div className="grid">
        <div className="panel">
          <div className="muted">Running</div>
          <div className="stat" data-testid="running-count">
            {counts.running}
          </div>
        </div>
        <div className="panel">
          <div className="muted">Queued</div>
          <div className="stat" data-testid="queued-count">
            {counts.queued}
          </div>
        </div>
        <div className="panel">
          <div className="muted">Tasks per hour today</div>
          <div className="stat">{((today.data?.items.length ?? 0) / hours).toFixed(1)}</div>
        </div>
        <div className="panel">
          <div className="muted">Cost today</div>
          <div className="stat">{formatCost(todayCost)}</div>
        </div>
      </div>
      <section className="panel" aria-labelledby="runners-title">
        <h2 id="runners-title">
          <Link href="/runners">Runners</Link>
        </h2>
        {runners.data && (
          <p data-testid="runner-summary">
            {runners.data.runners.length} runner{runners.data.runners.length === 1 ? '' : 's'} at work ·{' '}
            {runners.data.queue.active} slot{runners.data.queue.active === 1 ? '' : 's'} in use ·{' '}
            {runners.data.queue.waiting + runners.data.queue.delayed} waiting in the queue
          </p>
        )}
      </section>
      <section className="panel" aria-labelledby="latest-title">
        <h2 id="latest-title">Latest tasks</h2>
        <ul>
          {latest.data?.items.map((task) => (
            <li key={task.id}>
              <StatusBadge status={task.status} />{' '}
              <Link href={`/tasks/${task.id}`}>{task.prompt.slice(0, 80)}</Link>{' '}
              <span className="muted">{formatTime(task.createdAt)}</span>
            </li>
          ))}
        </ul>
        {latest.data?.items.length === 0 && <p className="muted">No tasks yet.</p>}
      </section>
    </>
  );
}
