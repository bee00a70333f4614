'use client';

import type { ConversationPage, ConversationTurn, Conversation } from '@hangar/contracts';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api, describeError } from '../lib/api';
import { formatTime } from '../lib/format';
import { useProject, useSession } from '../lib/session';
import { useApi } from '../lib/use-api';
import { ScenarioPicker } from '../components/scenario-picker';
import { formText } from '../lib/form';
import { ErrorNote } from '../components/bits';

export default function ChatPage() {
  const project = useProject();
  const { can } = useSession();
  const router = useRouter();
  const list = useApi<ConversationPage>('/conversations', { project: project.slug, limit: 50 });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function start(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const scenario = formText(form, 'scenario');
    setBusy(true);
    try {
      const created = await api<{ conversation: Conversation; turn: ConversationTurn | null }>(
        '/conversations',
        {
          method: 'POST',
          query: { project: project.slug },
          body: {
            title: formText(form, 'title').trim() || undefined,
            message: formText(form, 'message'),
            scenario: scenario || undefined,
          },
        },
      );
      router.push(`/chat/${created.conversation.id}`);
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  }

  return (
    <>
      <h1>Chat</h1>
      {can('operator') && (
        <form className="form panel" onSubmit={(event) => void start(event)} aria-label="New conversation">
          <h2>New conversation</h2>
          <label>
            Title
            <input name="title" placeholder="optional" />
          </label>
          <label>
            First message
            <textarea name="message" required />
          </label>
          <ScenarioPicker />
          <ErrorNote message={error} />
          <button type="submit" disabled={busy}>
            Start conversation
          </button>
        </form>
      )}
      <section className="panel" aria-label="Conversations">
        <h2>Conversations</h2>
        <ErrorNote message={list.error} />
        <ul>
          {list.data?.items.map((conversation) => (
            <li key={conversation.id}>
              <Link href={`/chat/${conversation.id}`}>{conversation.title ?? conversation.id}</Link>{' '}
              <span className="muted">{formatTime(conversation.updatedAt)}</span>
            </li>
          ))}
        </ul>
        {list.data?.items.length === 0 && <p className="muted">No conversations yet.</p>}
      </section>
    </>
  );
}
