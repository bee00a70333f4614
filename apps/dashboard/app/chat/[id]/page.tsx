'use client';

import {
  isTerminalStatus,
  type Conversation,
  type Message,
  type MessagePage,
  type Task,
  type TopicEvent,
} from '@hangar/contracts';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { AgentMarkdown } from '../../components/agent-markdown';
import { ScenarioPicker } from '../../components/scenario-picker';
import { api, describeError } from '../../lib/api';
import { useSession } from '../../lib/session';
import { useTopic } from '../../lib/socket';
import { formText } from '../../lib/form';
import { ErrorNote } from '../../components/bits';

// Messages per page: the latest ones first, earlier ones on request.
const MESSAGES_PAGE = 50;

export default function ConversationPage() {
  const { id } = useParams<{ id: string }>();
  const { can } = useSession();
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  // Where the older messages start (the API pages from the newest); null once all are shown.
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  // The turn being answered now, and what its agent has said so far.
  const [activeTask, setActiveTask] = useState<string | null>(null);
  const [streaming, setStreaming] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const mayWrite = conversation ? can('operator', conversation.project) : false;

  // New messages go after the ones shown, an older page before them.
  const addMessages = useCallback((incoming: Message[], where: 'after' | 'before' = 'after') => {
    setMessages((current) => {
      const known = new Set(current.map((message) => message.id));
      const added = incoming.filter((message) => !known.has(message.id));
      if (added.length === 0) return current;
      return where === 'after' ? [...current, ...added] : [...added, ...current];
    });
  }, []);

  useEffect(() => {
    (async () => {
      setConversation(await api<Conversation>(`/conversations/${id}`));
      const { items, nextCursor } = await api<MessagePage>(`/conversations/${id}/messages`, {
        query: { limit: MESSAGES_PAGE },
      });
      addMessages(items);
      setOlderCursor(nextCursor);
      const lastTurn = [...items].reverse().find((message) => message.role === 'user' && message.taskId);
      if (lastTurn?.taskId) {
        const task = await api<Task>(`/tasks/${lastTurn.taskId}`);
        if (!isTerminalStatus(task.status)) setActiveTask(task.id);
      }
    })().catch((failure: unknown) => setError(describeError(failure)));
  }, [id, addMessages]);

  useTopic(conversation ? `conversation:${id}` : null, (events: TopicEvent[]) => {
    for (const event of events) {
      if (event.type === 'message.created') {
        const message = event.data as Message;
        addMessages([message]);
        if (message.role === 'assistant')
          setActiveTask((current) => (current === message.taskId ? null : current));
      } else if (event.type === 'turn.status') {
        const { taskId, status, reason } = event.data as { taskId: string; status: string; reason?: string };
        if (isTerminalStatus(status)) {
          setActiveTask((current) => (current === taskId ? null : current));
          if (status !== 'COMPLETED') setError(`The turn ended ${status}${reason ? `: ${reason}` : ''}`);
        } else setActiveTask(taskId);
      }
    }
  });

  // The answer as it is written: the running turn's assistant text, in place.
  useEffect(() => setStreaming({}), [activeTask]);
  useTopic(activeTask ? `task:${activeTask}` : null, (events: TopicEvent[]) => {
    const texts = events.filter((event) => event.type === 'assistant.text');
    if (texts.length === 0) return;
    setStreaming((current) => {
      const next = { ...current };
      for (const event of texts) next[event.seq] = String((event.data as { text?: string }).text ?? '');
      return next;
    });
  });

  async function loadOlder() {
    if (!olderCursor) return;
    setLoadingOlder(true);
    try {
      const page = await api<MessagePage>(`/conversations/${id}/messages`, {
        query: { limit: MESSAGES_PAGE, cursor: olderCursor },
      });
      addMessages(page.items, 'before');
      setOlderCursor(page.nextCursor);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setLoadingOlder(false);
    }
  }

  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const scenario = formText(form, 'scenario');
    setBusy(true);
    setError(null);
    try {
      const turn = await api<{ message: Message; task: Task }>(`/conversations/${id}/messages`, {
        method: 'POST',
        body: { content: formText(form, 'content'), scenario: scenario || undefined },
      });
      addMessages([turn.message]);
      setActiveTask(turn.task.id);
      formRef.current?.reset();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  const streamed = Object.keys(streaming)
    .map(Number)
    .sort((a, b) => a - b)
    .map((seq) => streaming[seq])
    .join('\n\n');

  return (
    <>
      <p>
        <Link href="/chat">← Chat</Link>
      </p>
      <h1>{conversation?.title ?? 'Conversation'}</h1>
      <div className="chat-thread" role="log" aria-label="Messages" aria-live="polite">
        {olderCursor && (
          <button type="button" className="ghost" disabled={loadingOlder} onClick={() => void loadOlder()}>
            Load earlier messages
          </button>
        )}
        {messages.map((message) => (
          <div key={message.id} className={`bubble ${message.role}`} data-role={message.role}>
            <div className="muted" style={{ fontSize: '0.8rem' }}>
              {message.role === 'user' ? 'You' : 'Agent'}
              {message.taskId && (
                <>
                  {' · '}
                  <Link href={`/tasks/${message.taskId}`}>task</Link>
                </>
              )}
            </div>
            <AgentMarkdown>{message.content}</AgentMarkdown>
          </div>
        ))}
        {activeTask && (
          <div className="bubble assistant" data-role="streaming" aria-busy="true">
            <div className="muted" style={{ fontSize: '0.8rem' }}>
              Agent · writing…
            </div>
            {streamed ? <AgentMarkdown>{streamed}</AgentMarkdown> : <p className="muted">…</p>}
          </div>
        )}
      </div>
      <ErrorNote message={error} />
      {mayWrite && (
        <form
          ref={formRef}
          className="form panel"
          style={{ marginTop: '1rem' }}
          onSubmit={(event) => void send(event)}
        >
          <label>
            Message
            <textarea name="content" required />
          </label>
          <ScenarioPicker />
          <button type="submit" disabled={busy || activeTask !== null}>
            Send
          </button>
        </form>
      )}
    </>
  );
}
