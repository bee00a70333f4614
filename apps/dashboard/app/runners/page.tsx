'use client';

import type { RunnersOverview } from '@hangar/contracts';
import Link from 'next/link';
import { useEffect } from 'react';
import { formatTime } from '../lib/format';
import { useProject } from '../lib/session';
import { useApi } from '../lib/use-api';
import { ErrorNote } from '../components/bits';

// The queue and who works it: the runner pools (docs/routing.md), and the runner processes or
// task Jobs (kubernetes executor) working on the project's tasks.
export default function RunnersPage() {
  const project = useProject();
  const overview = useApi<RunnersOverview>('/runners', { project: project.slug });
  const { reload } = overview;
  useEffect(() => {
    const timer = setInterval(() => void reload(), 5000);
    return () => clearInterval(timer);
  }, [reload]);
  const data = overview.data;

  return (
    <>
      <h1>Runners</h1>
      <ErrorNote message={overview.error} />
      {data && (
        <>
          <div className="grid">
            <div className="panel">
              <div className="muted">Queue: waiting</div>
              <div className="stat">{data.queue.waiting}</div>
            </div>
            <div className="panel">
              <div className="muted">Queue: delayed</div>
              <div className="stat">{data.queue.delayed}</div>
            </div>
            <div className="panel">
              <div className="muted">Slots in use</div>
              <div className="stat">{data.queue.active}</div>
            </div>
            <div className="panel">
              <div className="muted">Tasks queued / running</div>
              <div className="stat">
                {data.tasks.queued} / {data.tasks.running}
              </div>
            </div>
          </div>
          <div className="table-wrap">
            <table aria-label="Runner pools">
              <thead>
                <tr>
                  <th scope="col">Pool</th>
                  <th scope="col">Offers</th>
                  <th scope="col">Slots in use</th>
                  <th scope="col">Runners</th>
                </tr>
              </thead>
              <tbody>
                {data.pools.map((pool) => (
                  <tr key={pool.name}>
                    <td>
                      <code>{pool.name}</code>
                    </td>
                    <td className="wrap">{[...pool.labels, ...pool.providers].join(', ')}</td>
                    <td>
                      {pool.running} / {pool.slots}
                    </td>
                    <td className="wrap">
                      {pool.runners.map((runner) => (
                        <span
                          key={runner.id}
                          className={runner.live ? 'badge' : 'badge warning'}
                          title={`last seen ${formatTime(runner.seenAt)}`}
                          style={{ marginRight: '0.5rem' }}
                        >
                          {runner.id}
                          {runner.live ? '' : ' (not live)'}
                        </span>
                      ))}
                    </td>
                  </tr>
                ))}
                {data.pools.length === 0 && (
                  <tr>
                    <td colSpan={4} className="muted">
                      No runner has registered yet.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          <div className="table-wrap">
            <table aria-label="Runners">
              <thead>
                <tr>
                  <th scope="col">Runner (or Job)</th>
                  <th scope="col">Sandbox</th>
                  <th scope="col">Last heartbeat</th>
                  <th scope="col">Running tasks</th>
                </tr>
              </thead>
              <tbody>
                {data.runners.map((runner) => (
                  <tr key={runner.id}>
                    <td>
                      <code>{runner.id}</code>
                    </td>
                    <td>
                      {runner.sandbox === 'none' ? (
                        // RUNNER_SANDBOX=off: its agents can reach everything the runner can.
                        <span className="badge warning" title="Started with RUNNER_SANDBOX=off">
                          ⚠ none
                        </span>
                      ) : (
                        (runner.sandbox ?? '—')
                      )}
                    </td>
                    <td>{formatTime(runner.lastHeartbeatAt)}</td>
                    <td className="wrap">
                      {runner.running.map((task) => (
                        <Link key={task.id} href={`/tasks/${task.id}`} style={{ marginRight: '0.5rem' }}>
                          {task.id}
                        </Link>
                      ))}
                    </td>
                  </tr>
                ))}
                {data.runners.length === 0 && (
                  <tr>
                    <td colSpan={4} className="muted">
                      No runner is working on a task of this project now.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
