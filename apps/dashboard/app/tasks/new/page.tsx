'use client';

import { TASK_PRIORITIES, type AgentProfile, type Task } from '@hangar/contracts';
import { ScenarioPicker } from '../../components/scenario-picker';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api, describeError } from '../../lib/api';
import { useProject, useSession } from '../../lib/session';
import { useApi } from '../../lib/use-api';
import { formText } from '../../lib/form';
import { ErrorNote } from '../../components/bits';

export default function NewTaskPage() {
  const project = useProject();
  const { can } = useSession();
  const router = useRouter();
  const profiles = useApi<{ items: AgentProfile[] }>('/profiles', { project: project.slug });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (!can('operator')) return <p>Your role in {project.name} cannot start tasks.</p>;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => {
      const value = formText(form, name).trim();
      return value === '' ? undefined : value;
    };
    const timeout = text('timeoutSeconds');
    setBusy(true);
    setError(null);
    try {
      const task = await api<Task>('/tasks', {
        method: 'POST',
        query: { project: project.slug },
        body: {
          prompt: formText(form, 'prompt'),
          profile: text('profile'),
          repository: text('repository'),
          ref: text('ref'),
          scenario: text('scenario'),
          priority: text('priority'),
          timeoutSeconds: timeout === undefined ? undefined : Number(timeout),
        },
      });
      router.push(`/tasks/${task.id}`);
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  }

  return (
    <>
      <h1>New task</h1>
      <form className="form panel" onSubmit={(event) => void submit(event)}>
        <label>
          Prompt
          <textarea name="prompt" required />
        </label>
        <label>
          Profile
          <select name="profile" defaultValue="">
            <option value="">default</option>
            {profiles.data?.items
              .filter((profile) => profile.name !== 'default')
              .map((profile) => (
                <option key={profile.name} value={profile.name}>
                  {profile.name}
                </option>
              ))}
          </select>
        </label>
        <div className="row">
          <label className="field" style={{ flex: 3 }}>
            Repository (git URL)
            <input name="repository" placeholder="https://github.com/acme/app.git" />
          </label>
          <label className="field" style={{ flex: 1 }}>
            Ref
            <input name="ref" placeholder="main" />
          </label>
        </div>
        <ScenarioPicker />
        <div className="row">
          <label className="field">
            Priority
            <select name="priority" defaultValue="normal">
              {TASK_PRIORITIES.map((priority) => (
                <option key={priority} value={priority}>
                  {priority}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            Timeout (seconds)
            <input name="timeoutSeconds" type="number" min={1} max={86400} placeholder="profile's" />
          </label>
        </div>
        <ErrorNote message={error} />
        <button type="submit" disabled={busy}>
          Start task
        </button>
      </form>
    </>
  );
}
