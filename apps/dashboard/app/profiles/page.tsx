'use client';

import type { AgentProfileView } from '@hangar/contracts';
import { useState, type FormEvent } from 'react';
import { api, describeError } from '../lib/api';
import { formatTime } from '../lib/format';
import { useProject, useSession } from '../lib/session';
import { useApi } from '../lib/use-api';
import { formText } from '../lib/form';
import { ErrorNote } from '../components/bits';
import { TrustBadge } from '../components/trust-badge';

// Agent profiles: which CLI and model a task runs with, its tools, limits and prompt additions.
export default function ProfilesPage() {
  const project = useProject();
  const { can } = useSession();
  const profiles = useApi<{ items: AgentProfileView[] }>('/profiles', { project: project.slug });
  const [error, setError] = useState<string | null>(null);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const text = (name: string) => formText(form, name).trim() || undefined;
    const timeout = text('timeoutSeconds');
    setError(null);
    try {
      await api('/profiles', {
        method: 'POST',
        query: { project: project.slug },
        body: {
          name: text('name'),
          model: text('model'),
          appendSystemPrompt: text('appendSystemPrompt'),
          timeoutSeconds: timeout === undefined ? undefined : Number(timeout),
        },
      });
      formElement.reset();
      await profiles.reload();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return (
    <>
      <h1>Agent profiles</h1>
      <ErrorNote message={profiles.error} />
      <div className="table-wrap">
        <table aria-label="Profiles">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Provider</th>
              <th scope="col">Model</th>
              <th scope="col">Internet</th>
              <th scope="col">Tools</th>
              <th scope="col">Max turns</th>
              <th scope="col">Timeout</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {profiles.data?.items.map((profile) => (
              <tr key={profile.name}>
                <td>
                  {profile.name}
                  {profile.trustRepositorySettings && (
                    <>
                      {' '}
                      <TrustBadge />
                    </>
                  )}
                  {profile.telemetryContent && (
                    <>
                      {' '}
                      <span
                        className="badge"
                        title="The agent CLI's telemetry of this profile's tasks includes their prompts and tool inputs"
                      >
                        logs prompts
                      </span>
                    </>
                  )}
                </td>
                <td>{profile.provider}</td>
                <td>{profile.model ?? 'default'}</td>
                <td>{profile.internetAccess ? 'allowed' : 'no'}</td>
                <td className="wrap">
                  {profile.allowedTools.length > 0 ? profile.allowedTools.join(', ') : 'all'}
                  {profile.disallowedTools.length > 0 && ` (not ${profile.disallowedTools.join(', ')})`}
                </td>
                <td>{profile.maxTurns ?? '—'}</td>
                <td>{profile.timeoutSeconds ? `${profile.timeoutSeconds} s` : 'default'}</td>
                <td>{formatTime(profile.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {can('admin') && (
        <form
          className="form panel"
          style={{ marginTop: '1rem' }}
          onSubmit={(event) => void create(event)}
          aria-label="New profile"
        >
          <h2>New profile</h2>
          <label>
            Name
            <input
              name="name"
              required
              pattern="[a-z0-9][a-z0-9\-]*"
              title="lower-case letters, digits and dashes"
            />
          </label>
          <label>
            Model
            <input name="model" placeholder="the CLI's default" />
          </label>
          <label>
            Added to the system prompt
            <textarea name="appendSystemPrompt" />
          </label>
          <label>
            Timeout (seconds)
            <input name="timeoutSeconds" type="number" min={1} max={86400} />
          </label>
          <ErrorNote message={error} />
          <button type="submit">Create profile</button>
        </form>
      )}
    </>
  );
}
