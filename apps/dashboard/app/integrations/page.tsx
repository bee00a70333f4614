'use client';

import type { DeliveryPage, Webhook } from '@hangar/contracts';
import { formatTime } from '../lib/format';
import { useProject } from '../lib/session';
import { useApi } from '../lib/use-api';
import { ErrorNote } from '../components/bits';

// Webhook configurations and what became of each recent delivery (matched, ignored and why).
// At /integrations: /webhooks/ is the gateway's (the receivers), in NGINX and the ingress alike.
export default function WebhooksPage() {
  const project = useProject();
  const webhooks = useApi<{ items: Webhook[] }>('/webhooks', { project: project.slug });
  const deliveries = useApi<DeliveryPage>('/webhook-deliveries', { project: project.slug });

  return (
    <>
      <h1>Webhooks</h1>
      <section className="panel" aria-labelledby="configurations-title">
        <h2 id="configurations-title">Configurations</h2>
        <ErrorNote message={webhooks.error} />
        {webhooks.data?.items.length === 0 && (
          <p className="muted">None yet. Configurations are made through the API (docs/webhooks.md).</p>
        )}
        {webhooks.data?.items.map((webhook) => (
          <details key={webhook.id} className="entry">
            <summary>
              <strong>{webhook.name}</strong> <span className="muted">{webhook.provider}</span>{' '}
              <code>{webhook.path}</code> {webhook.enabled ? '' : <span className="error">disabled</span>}
            </summary>
            <p>
              Prefix <code>{webhook.prefix}</code>; credentials set:{' '}
              {webhook.credentials.join(', ') || 'none'}
            </p>
            <pre>{JSON.stringify(webhook.commands, null, 2)}</pre>
          </details>
        ))}
      </section>
      <section className="panel" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Recent deliveries</h2>
        <ErrorNote message={deliveries.error} />
        <div className="table-wrap">
          <table aria-label="Deliveries">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Provider</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Command</th>
                <th scope="col">Why</th>
                <th scope="col">Task</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data?.items.map((delivery) => (
                <tr key={delivery.id}>
                  <td>{formatTime(delivery.receivedAt)}</td>
                  <td>{delivery.provider}</td>
                  <td>{delivery.event ?? '—'}</td>
                  <td>{delivery.status}</td>
                  <td>{delivery.command ?? '—'}</td>
                  <td className="wrap">{delivery.reason ?? '—'}</td>
                  <td>
                    {delivery.taskId ? <a href={`/tasks/${delivery.taskId}`}>{delivery.taskId}</a> : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {deliveries.data?.items.length === 0 && <p className="muted">No deliveries yet.</p>}
      </section>
    </>
  );
}
