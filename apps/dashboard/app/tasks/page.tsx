'use client';

import { TASK_STATUSES, type TaskPage } from '@hangar/contracts';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { Suspense } from 'react';
import { StatusBadge } from '../components/status-badge';
import { formatCost, formatDuration, formatTime, formatTokens, totalTokens } from '../lib/format';
import { useProject, useSession } from '../lib/session';
import { useApi } from '../lib/use-api';
import { ErrorNote } from '../components/bits';

export default function TasksPage() {
  return (
    <Suspense>
      <TaskLedger />
    </Suspense>
  );
}

// The ledger. Filters and the page are in the URL, so a reload or a shared link shows the same.
function TaskLedger() {
  const project = useProject();
  const { can } = useSession();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const status = params.get('status') ?? '';
  const profile = params.get('profile') ?? '';
  const cursor = params.get('cursor') ?? '';
  const since = params.get('since') ?? '';
  const search = params.get('q') ?? '';
  const page = useApi<TaskPage>('/tasks', {
    project: project.slug,
    status,
    profile,
    q: search,
    cursor,
    createdAfter: since ? new Date(since).toISOString() : undefined,
    limit: 25,
  });

  function setParam(name: string, value: string) {
    const next = new URLSearchParams(params.toString());
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== 'cursor') next.delete('cursor');
    router.push(`${pathname}?${next.toString()}`);
  }

  return (
    <>
      <div className="row">
        <h1>Tasks</h1>
        {can('operator') && (
          <Link href="/tasks/new" className="button" style={{ marginLeft: 'auto' }}>
            New task
          </Link>
        )}
      </div>
      <form
        className="row panel"
        role="search"
        aria-label="Filter tasks"
        onSubmit={(event) => event.preventDefault()}
      >
        <TextFilter
          label="Search"
          value={search}
          placeholder="words of the prompt"
          type="search"
          onChange={(value) => setParam('q', value)}
        />
        <label className="inline-field">
          <span>Status</span>
          <select value={status} onChange={(event) => setParam('status', event.target.value)}>
            <option value="">any</option>
            {TASK_STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
        <TextFilter
          label="Profile"
          value={profile}
          placeholder="any"
          onChange={(value) => setParam('profile', value)}
        />
        <label className="inline-field">
          <span>Since</span>
          <input type="date" value={since} onChange={(event) => setParam('since', event.target.value)} />
        </label>
      </form>
      <ErrorNote message={page.error} />
      <div className="table-wrap">
        <table aria-label="Tasks">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Prompt</th>
              <th scope="col">Profile</th>
              <th scope="col">Repository</th>
              <th scope="col">Created</th>
              <th scope="col">Duration</th>
              <th scope="col">Cost</th>
              <th scope="col">Tokens</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((task) => (
              <tr key={task.id}>
                <td>
                  <StatusBadge status={task.status} />
                </td>
                <td className="wrap">
                  <Link href={`/tasks/${task.id}`}>{task.prompt.slice(0, 90) || task.id}</Link>
                </td>
                <td>{task.profile}</td>
                <td>{task.repository ?? '—'}</td>
                <td>{formatTime(task.createdAt)}</td>
                <td>{formatDuration(task.durationMs)}</td>
                <td>{formatCost(task.costUsd)}</td>
                <td>{formatTokens(totalTokens(task.usage))}</td>
              </tr>
            ))}
            {page.data && page.data.items.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  No tasks match.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <nav className="row" aria-label="Pages" style={{ marginTop: '0.75rem' }}>
        {cursor && (
          <button type="button" className="ghost" onClick={() => setParam('cursor', '')}>
            Newest
          </button>
        )}
        {page.data?.nextCursor && (
          <button type="button" className="ghost" onClick={() => setParam('cursor', page.data!.nextCursor!)}>
            Older
          </button>
        )}
      </nav>
    </>
  );
}

// A text filter that applies on Enter or when it loses focus (not at every key: each change is
// a navigation and a request).
function TextFilter(props: {
  label: string;
  value: string;
  placeholder: string;
  type?: 'search' | 'text';
  onChange: (value: string) => void;
}) {
  const apply = (value: string) => {
    if (value.trim() !== props.value) props.onChange(value.trim());
  };
  return (
    <label className="inline-field">
      <span>{props.label}</span>
      <input
        type={props.type ?? 'text'}
        defaultValue={props.value}
        placeholder={props.placeholder}
        size={14}
        onKeyDown={(event) => {
          if (event.key === 'Enter') apply(event.currentTarget.value);
        }}
        onBlur={(event) => apply(event.target.value)}
      />
    </label>
  );
}
