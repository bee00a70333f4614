'use client';

import type { AlertFiring, AlertRule, AlertSilence, Anomaly } from '@hangar/contracts';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { ErrorNote, TableHead } from '../components/bits';
import { api, describeError } from '../lib/api';
import { formatTime } from '../lib/format';
import { useProject, useSession } from '../lib/session';
import { useApi } from '../lib/use-api';

const ANOMALY_UNITS: Record<Anomaly['metric'], (value: number) => string> = {
  cost_usd: (value) => `$${value.toFixed(4)}`,
  run_seconds: (value) => `${value.toFixed(1)} s`,
  tool_calls: (value) => `${Math.round(value)} calls`,
  hour_failure_rate: (value) => `${(value * 100).toFixed(0)}% failed`,
  hour_cost_usd: (value) => `$${value.toFixed(2)} in the hour`,
};

// The task badges' colours: firing red, pending amber, inactive green.
const STATE_BADGE: Record<AlertRule['state'], string> = {
  firing: 'FAILED',
  pending: 'QUEUED',
  inactive: 'COMPLETED',
};

// Alerts of the project and the installation (docs/alerts.md): each rule's state now, what fired
// lately and whom it reached, and the project's anomalies. An operator silences a rule for an
// hour from here; rules and targets are made through the API or `hangar` CLI. Looks again every 5 s.
export default function AlertsPage() {
  const project = useProject();
  const { can } = useSession();
  const query = { project: project.slug };
  const rules = useApi<{ items: AlertRule[] }>('/alerts/rules', query);
  const firings = useApi<{ items: AlertFiring[] }>('/alerts/firings', query);
  const silences = useApi<{ items: AlertSilence[] }>('/alerts/silences', query);
  const anomalies = useApi<{ items: Anomaly[] }>('/anomalies', query);
  const [error, setError] = useState<string | null>(null);
  const { reload: reloadRules } = rules;
  const { reload: reloadFirings } = firings;
  const { reload: reloadSilences } = silences;
  const { reload: reloadAnomalies } = anomalies;
  useEffect(() => {
    const timer = setInterval(() => {
      for (const reload of [reloadRules, reloadFirings, reloadSilences, reloadAnomalies]) void reload();
    }, 5000);
    return () => clearInterval(timer);
  }, [reloadRules, reloadFirings, reloadSilences, reloadAnomalies]);
  const silencedUntil = (rule: AlertRule) =>
    (silences.data?.items ?? [])
      .filter(
        (silence) => silence.rule === rule.id || (silence.rule === null && silence.project === rule.project),
      )
      .map((silence) => silence.endsAt)
      .sort()
      .at(-1);
  const silence = async (rule: AlertRule) => {
    setError(null);
    try {
      await api('/alerts/silences', {
        method: 'POST',
        query,
        body: { rule: rule.id, minutes: 60, comment: 'from the dashboard' },
      });
      await silences.reload();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <>
      <h1>Alerts</h1>
      <p className="muted">
        Rules of this project and of the installation, evaluated by the metrics service; what fired and whom
        it reached; tasks far outside their profile&apos;s usual.
      </p>
      <ErrorNote message={error ?? rules.error ?? firings.error ?? anomalies.error} />
      <h2>Rules</h2>
      {rules.data && rules.data.items.length === 0 && <p className="panel muted">No alert rules yet.</p>}
      {rules.data && rules.data.items.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Alert rules">
            <TableHead columns={['Rule', 'Condition', 'State', 'Value', 'Severity', 'Silenced', '']} />
            <tbody>
              {rules.data.items.map((rule) => {
                const until = silencedUntil(rule);
                return (
                  <tr key={rule.id} data-rule={rule.name}>
                    <td>
                      {rule.name}
                      {rule.project === null && <span className="muted"> (installation)</span>}
                    </td>
                    <td>
                      <code>
                        {rule.series} {rule.comparator} {rule.threshold}
                      </code>{' '}
                      <span className="muted">
                        over {rule.windowMinutes} min{rule.forSeconds > 0 ? `, for ${rule.forSeconds} s` : ''}
                        {rule.profile ? `, profile ${rule.profile}` : ''}
                      </span>
                    </td>
                    <td data-testid="rule-state">
                      <span className={`badge ${STATE_BADGE[rule.state]}`}>{rule.state}</span>{' '}
                      <span className="muted">
                        {rule.stateSince ? `since ${formatTime(rule.stateSince)}` : ''}
                      </span>
                    </td>
                    <td>{rule.value ?? '—'}</td>
                    <td>{rule.severity}</td>
                    <td>{until ? `until ${formatTime(until)}` : '—'}</td>
                    <td>
                      {!until && can('operator', rule.project ?? undefined) && rule.project !== null && (
                        <button type="button" onClick={() => void silence(rule)}>
                          Silence 1 h
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <h2>Fired lately</h2>
      {firings.data && firings.data.items.length === 0 && <p className="panel muted">Nothing has fired.</p>}
      {firings.data && firings.data.items.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Alert firings">
            <TableHead columns={['Rule', 'Value', 'Fired', 'Resolved', 'Notified']} />
            <tbody>
              {firings.data.items.map((firing) => (
                <tr key={firing.id}>
                  <td>{firing.name}</td>
                  <td>
                    {firing.value} {firing.comparator} {firing.threshold}
                  </td>
                  <td>{formatTime(firing.firedAt)}</td>
                  <td>{firing.resolvedAt ? formatTime(firing.resolvedAt) : 'firing'}</td>
                  <td>
                    {firing.silenced
                      ? 'silenced: nobody'
                      : firing.notifications
                          .map(
                            (sent) =>
                              `${sent.target} (${sent.event}: ${sent.status}${sent.lastError ? `, ${sent.lastError}` : ''})`,
                          )
                          .join('; ') || '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Anomalies</h2>
      {anomalies.data && anomalies.data.items.length === 0 && (
        <p className="panel muted">No task or hour has stood out from its profile&apos;s baseline.</p>
      )}
      {anomalies.data && anomalies.data.items.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Anomalies">
            <TableHead
              columns={['Task or hour', 'Profile', 'Measure', 'Value', 'Baseline median', 'Score', 'Ended']}
            />
            <tbody>
              {anomalies.data.items.map((anomaly) => (
                <tr key={anomaly.id}>
                  <td>
                    {anomaly.taskId !== null ? (
                      <Link href={`/tasks/${anomaly.taskId}`}>{anomaly.taskId}</Link>
                    ) : (
                      `the hour from ${formatTime(anomaly.hour ?? anomaly.at)}`
                    )}
                  </td>
                  <td>{anomaly.profile}</td>
                  <td>{anomaly.metric}</td>
                  <td>{ANOMALY_UNITS[anomaly.metric](anomaly.value)}</td>
                  <td>
                    {ANOMALY_UNITS[anomaly.metric](anomaly.median)}{' '}
                    <span className="muted">
                      of {anomaly.baselineTasks} {anomaly.taskId !== null ? 'tasks' : 'hours'}
                    </span>
                  </td>
                  <td>{anomaly.score.toFixed(1)}</td>
                  <td>{formatTime(anomaly.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
