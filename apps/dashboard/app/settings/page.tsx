'use client';

import {
  type ApiToken,
  type CreatedApiToken,
  type GitHostEntry,
  type GitHostList,
  type Member,
  type Role,
} from '@hangar/contracts';
import { useState, type FormEvent } from 'react';
import { api, describeError } from '../lib/api';
import { formatTime } from '../lib/format';
import { useProject, useSession } from '../lib/session';
import { useApi } from '../lib/use-api';
import { formText } from '../lib/form';
import { ErrorNote, RoleOptions, TableHead } from '../components/bits';

export default function SettingsPage() {
  const { can } = useSession();
  return (
    <>
      <h1>Settings</h1>
      {can('operator') ? <Tokens /> : <p className="muted">Viewers have no settings to change.</p>}
      <GitHosts canEdit={can('admin')} />
      {can('admin') && <Members />}
    </>
  );
}

function Tokens() {
  const project = useProject();
  const tokens = useApi<{ items: ApiToken[] }>('/tokens', { project: project.slug });
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const days = formText(form, 'expiresInDays');
    setError(null);
    try {
      setCreated(
        await api<CreatedApiToken>('/tokens', {
          method: 'POST',
          query: { project: project.slug },
          body: {
            name: formText(form, 'name').trim(),
            role: formText(form, 'role') || undefined,
            expiresInDays: days === 'never' ? null : Number(days),
          },
        }),
      );
      formElement.reset();
      await tokens.reload();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  async function revoke(token: ApiToken) {
    setError(null);
    try {
      await api(`/tokens/${token.id}`, { method: 'DELETE' });
      if (created?.id === token.id) setCreated(null);
      await tokens.reload();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return (
    <section className="panel" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <form className="row" onSubmit={(event) => void create(event)} aria-label="New token">
        <label className="inline-field">
          <span>Name</span>
          <input name="name" required maxLength={100} />
        </label>
        <label className="inline-field">
          <span>Role</span>
          <select name="role" defaultValue="">
            <option value="">mine</option>
            <RoleOptions />
          </select>
        </label>
        <label className="inline-field">
          <span>Expires</span>
          <select name="expiresInDays" defaultValue="90">
            <option value="7">in 7 days</option>
            <option value="30">in 30 days</option>
            <option value="90">in 90 days</option>
            <option value="365">in a year</option>
            <option value="never">never</option>
          </select>
        </label>
        <button type="submit">Create token</button>
      </form>
      {created && (
        <div className="panel" role="status" aria-label="New token" style={{ marginTop: '0.75rem' }}>
          <p>
            <strong>Copy it now: it is shown only once.</strong>
          </p>
          <pre data-testid="new-token">{created.token}</pre>
        </div>
      )}
      <ErrorNote message={error} />
      <div className="table-wrap">
        <table aria-label="Tokens">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="muted">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.data?.items.map((token) => (
              <tr key={token.id}>
                <td>{token.name}</td>
                <td>
                  <code>{token.prefix}…</code>
                </td>
                <td>{token.role}</td>
                <td>{formatTime(token.createdAt)}</td>
                <td>{token.expiresAt ? formatTime(token.expiresAt) : 'never'}</td>
                <td>{formatTime(token.lastUsedAt)}</td>
                <td>{token.revokedAt ? `revoked ${formatTime(token.revokedAt)}` : 'active'}</td>
                <td>
                  {!token.revokedAt && (
                    <button
                      type="button"
                      className="ghost"
                      aria-label={`Revoke ${token.name}`}
                      onClick={() => void revoke(token)}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Members() {
  const project = useProject();
  const { me } = useSession();
  const members = useApi<{ items: Member[] }>(`/projects/${project.slug}/members`);
  const [error, setError] = useState<string | null>(null);

  async function setRole(userId: string, role: Role) {
    setError(null);
    try {
      await api(`/projects/${project.slug}/members/${userId}`, { method: 'PUT', body: { role } });
      await members.reload();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  async function addUser(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setError(null);
    try {
      const user = await api<{ id: string }>('/users', {
        method: 'POST',
        body: {
          email: formText(form, 'email').trim(),
          name: formText(form, 'name').trim(),
          password: formText(form, 'password'),
        },
      });
      await api(`/projects/${project.slug}/members/${user.id}`, {
        method: 'PUT',
        body: { role: formText(form, 'role') || 'viewer' },
      });
      formElement.reset();
      await members.reload();
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return (
    <section className="panel" aria-labelledby="members-title">
      <h2 id="members-title">Members of {project.name}</h2>
      <ErrorNote message={error} />
      <div className="table-wrap">
        <table aria-label="Members">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
            </tr>
          </thead>
          <tbody>
            {members.data?.items.map((member) => (
              <tr key={member.user.id}>
                <td>{member.user.name}</td>
                <td>{member.user.email}</td>
                <td>
                  <select
                    aria-label={`Role of ${member.user.email}`}
                    value={member.role}
                    disabled={member.user.id === me?.user?.id}
                    onChange={(event) => void setRole(member.user.id, event.target.value as Role)}
                  >
                    <RoleOptions />
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {me?.user?.isAdmin && (
        <form
          className="row"
          style={{ marginTop: '0.75rem' }}
          onSubmit={(event) => void addUser(event)}
          aria-label="Add a user"
        >
          <label className="inline-field">
            <span>Email</span>
            <input name="email" type="email" required />
          </label>
          <label className="inline-field">
            <span>Name</span>
            <input name="name" required />
          </label>
          <label className="inline-field">
            <span>Password</span>
            <input name="password" type="password" required minLength={12} autoComplete="new-password" />
          </label>
          <label className="inline-field">
            <span>Role</span>
            <select name="role" defaultValue="viewer">
              <RoleOptions />
            </select>
          </label>
          <button type="submit">Add user</button>
        </form>
      )}
    </section>
  );
}

// Which git hosts the project's tasks may clone from and push to, and whether each is given a
// credential (write-only: the API never shows one back). Project admins edit the list.
function GitHosts({ canEdit }: { canEdit: boolean }) {
  const project = useProject();
  const hosts = useApi<GitHostList>(`/projects/${project.slug}/git-hosts`);
  const [error, setError] = useState<string | null>(null);
  // What is stored stays as it is: an entry without `credential` keeps the host's own.
  const kept = (except?: string): GitHostEntry[] =>
    (hosts.data?.items ?? []).filter((entry) => entry.host !== except).map(({ host }) => ({ host }));

  async function save(items: GitHostEntry[]): Promise<boolean> {
    setError(null);
    try {
      await api(`/projects/${project.slug}/git-hosts`, { method: 'PUT', body: { items } });
      await hosts.reload();
      return true;
    } catch (failure) {
      setError(describeError(failure));
      return false;
    }
  }

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const token = formText(form, 'token');
    const username = formText(form, 'username').trim();
    const entry: GitHostEntry = {
      host: formText(form, 'host').trim(),
      credential: token ? { token, ...(username ? { username } : {}) } : null,
    };
    if (await save([...kept(), entry])) formElement.reset();
  }

  const items = hosts.data?.items ?? [];
  return (
    <section className="panel" aria-labelledby="git-hosts-title">
      <h2 id="git-hosts-title">Git hosts of {project.name}</h2>
      <p className="muted">
        Tasks clone from and push to these hosts only; a credential is offered to its own host alone and never
        shown again.{' '}
        {hosts.data && items.length === 0 && (
          <span data-testid="installation-hosts">
            This project has no list of its own: the installation&apos;s hosts apply (
            {hosts.data.installationHosts.join(', ') || 'none'}).
          </span>
        )}
      </p>
      <ErrorNote message={error ?? hosts.error} />
      {items.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Git hosts">
            <TableHead columns={canEdit ? ['Host', 'Credential', 'Actions'] : ['Host', 'Credential']} />
            <tbody>
              {items.map((entry) => (
                <tr key={entry.host}>
                  <td>
                    <code>{entry.host}</code>
                  </td>
                  <td>{entry.hasCredential ? 'set' : 'none'}</td>
                  {canEdit && (
                    <td>
                      <button
                        type="button"
                        className="ghost"
                        aria-label={`Remove ${entry.host}`}
                        onClick={() => void save(kept(entry.host))}
                      >
                        Remove
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canEdit && (
        <form
          className="row"
          style={{ marginTop: '0.75rem' }}
          onSubmit={(event) => void add(event)}
          aria-label="Allow a git host"
        >
          <label className="inline-field">
            <span>Host</span>
            <input name="host" required placeholder="git.example.com:8443" maxLength={270} />
          </label>
          <label className="inline-field">
            <span>User name</span>
            <input name="username" placeholder="x-access-token" maxLength={100} autoComplete="off" />
          </label>
          <label className="inline-field">
            <span>Token</span>
            <input name="token" type="password" maxLength={4096} autoComplete="new-password" />
          </label>
          <button type="submit">Allow host</button>
        </form>
      )}
    </section>
  );
}
