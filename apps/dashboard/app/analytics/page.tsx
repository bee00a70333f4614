'use client';

import type { Analytics } from '@hangar/contracts';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { Suspense, useMemo } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatCost, formatDuration, formatTokens, totalTokens } from '../lib/format';
import { useProject } from '../lib/session';
import { useApi } from '../lib/use-api';
import { ErrorNote } from '../components/bits';

const RANGES = [
  { value: '1', label: 'Last 24 hours', bucket: 'hour' },
  { value: '7', label: 'Last 7 days', bucket: 'day' },
  { value: '30', label: 'Last 30 days', bucket: 'day' },
  { value: '90', label: 'Last 90 days', bucket: 'day' },
] as const;

export default function AnalyticsPage() {
  return (
    <Suspense>
      <AnalyticsView />
    </Suspense>
  );
}

// What the agents did and cost, over GET /api/v1/analytics; the range is in the URL.
function AnalyticsView() {
  const project = useProject();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const range = RANGES.find((candidate) => candidate.value === params.get('days')) ?? RANGES[1];
  const from = useMemo(
    () => new Date(Date.now() - Number(range.value) * 86_400_000).toISOString(),
    [range.value],
  );
  const analytics = useApi<Analytics>('/analytics', { project: project.slug, from, bucket: range.bucket });
  const data = analytics.data;
  const perBucket = data?.perBucket.map((bucket) => ({
    ...bucket,
    label: range.bucket === 'hour' ? bucket.bucket.slice(11, 16) : bucket.bucket.slice(5, 10),
    tokens: totalTokens(bucket),
  }));

  return (
    <>
      <div className="row">
        <h1 style={{ marginRight: 'auto' }}>Analytics</h1>
        <label className="inline-field">
          <span>Range</span>
          <select
            value={range.value}
            onChange={(event) => router.push(`${pathname}?days=${event.target.value}`)}
          >
            {RANGES.map((candidate) => (
              <option key={candidate.value} value={candidate.value}>
                {candidate.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote message={analytics.error} />
      {data && (
        <>
          <div className="grid">
            <div className="panel">
              <div className="muted">Tasks</div>
              <div className="stat" data-testid="analytics-tasks">
                {data.totals.tasks}
              </div>
            </div>
            <div className="panel">
              <div className="muted">Cost</div>
              <div className="stat">{formatCost(data.totals.costUsd)}</div>
            </div>
            <div className="panel">
              <div className="muted">Tokens</div>
              <div className="stat">{formatTokens(totalTokens(data.totals))}</div>
            </div>
            <div className="panel">
              <div className="muted">Duration p50 / p95</div>
              <div className="stat">
                {formatDuration(data.duration.p50Ms)} / {formatDuration(data.duration.p95Ms)}
              </div>
            </div>
          </div>
          <div className="grid" style={{ gridTemplateColumns: 'repeat(auto-fit, minmax(20rem, 1fr))' }}>
            <Chart title="Cost per bucket">
              <LineChart data={perBucket}>
                <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
                <XAxis dataKey="label" stroke="var(--muted)" />
                <YAxis stroke="var(--muted)" />
                <Tooltip />
                <Line
                  type="monotone"
                  dataKey="costUsd"
                  name="cost (USD)"
                  stroke="var(--accent)"
                  isAnimationActive={false}
                />
              </LineChart>
            </Chart>
            <Chart title="Tasks and tokens per bucket">
              <BarChart data={perBucket}>
                <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
                <XAxis dataKey="label" stroke="var(--muted)" />
                <YAxis yAxisId="tasks" stroke="var(--muted)" />
                <YAxis yAxisId="tokens" orientation="right" stroke="var(--muted)" />
                <Tooltip />
                <Legend />
                <Bar yAxisId="tasks" dataKey="tasks" fill="var(--accent)" isAnimationActive={false} />
                <Bar yAxisId="tokens" dataKey="tokens" fill="var(--warn)" isAnimationActive={false} />
              </BarChart>
            </Chart>
            <Chart title="Tasks by status">
              <BarChart data={data.byStatus}>
                <XAxis dataKey="status" stroke="var(--muted)" />
                <YAxis allowDecimals={false} stroke="var(--muted)" />
                <Tooltip />
                <Bar dataKey="count" fill="var(--accent)" isAnimationActive={false} />
              </BarChart>
            </Chart>
            <Chart title="Top tools">
              <BarChart data={data.topTools} layout="vertical">
                <XAxis type="number" allowDecimals={false} stroke="var(--muted)" />
                <YAxis type="category" dataKey="name" width={90} stroke="var(--muted)" />
                <Tooltip />
                <Bar dataKey="count" fill="var(--ok)" isAnimationActive={false} />
              </BarChart>
            </Chart>
          </div>
          <div className="grid" style={{ gridTemplateColumns: 'repeat(auto-fit, minmax(20rem, 1fr))' }}>
            <Breakdown
              title="By profile"
              rows={data.byProfile.map((row) => ({ name: row.profile, ...row }))}
            />
            <Breakdown
              title="By project"
              rows={data.byProject.map((row) => ({ name: row.project, ...row }))}
            />
          </div>
        </>
      )}
    </>
  );
}

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <figure className="panel" style={{ margin: 0 }}>
      <figcaption>
        <h2>{title}</h2>
      </figcaption>
      <ResponsiveContainer width="100%" height={240}>
        {children}
      </ResponsiveContainer>
    </figure>
  );
}

function Breakdown({
  title,
  rows,
}: {
  title: string;
  rows: { name: string; tasks: number; costUsd: number }[];
}) {
  return (
    <section className="panel">
      <h2>{title}</h2>
      <table aria-label={title}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Tasks</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name}>
              <td>{row.name}</td>
              <td>{row.tasks}</td>
              <td>{formatCost(row.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
