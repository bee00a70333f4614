'use client';

import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { formatBytes } from '../lib/format';
import { nestedEntries, type Entry } from '../lib/transcript-entries';
import { AgentMarkdown } from './agent-markdown';

export function Transcript({ entries, live }: { entries: Entry[]; live: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);

  // Auto-follow: keep the newest in view unless the reader scrolled up to read.
  useLayoutEffect(() => {
    const element = box.current;
    if (element && following) element.scrollTop = element.scrollHeight;
  }, [entries, following]);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const onScroll = () => {
      const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
      setFollowing(atBottom);
    };
    element.addEventListener('scroll', onScroll, { passive: true });
    return () => element.removeEventListener('scroll', onScroll);
  }, []);

  const nested = nestedEntries(entries);
  return (
    <section className="panel" aria-labelledby="transcript-title">
      <div className="row">
        <h2 id="transcript-title">Transcript</h2>
        {live && <span className="muted">live</span>}
        {!following && (
          <button
            type="button"
            className="ghost"
            onClick={() => setFollowing(true)}
            style={{ marginLeft: 'auto' }}
          >
            Follow latest
          </button>
        )}
      </div>
      <div className="transcript" ref={box} role="log" aria-live="polite" aria-label="Agent transcript">
        {entries.length === 0 && <p className="muted">Nothing yet.</p>}
        {(nested.get('') ?? []).map((entry) => (
          <TranscriptEntry key={entry.seq} entry={entry} nested={nested} />
        ))}
      </div>
    </section>
  );
}

function TranscriptEntry({ entry, nested }: { entry: Entry; nested: Map<string, Entry[]> }) {
  switch (entry.kind) {
    case 'text':
      return (
        <div className="entry assistant" data-seq={entry.seq}>
          <AgentMarkdown>{entry.text}</AgentMarkdown>
        </div>
      );
    case 'thinking':
      return (
        <details className="entry" data-seq={entry.seq}>
          <summary>Thinking</summary>
          <p className="muted">{entry.text}</p>
        </details>
      );
    case 'tool': {
      // What the subagent this call started did (Claude Code's Task), inside its card.
      const subagent = nested.get(entry.id) ?? [];
      return (
        <details
          className={`entry tool${entry.isError ? ' error' : ''}`}
          data-seq={entry.seq}
          data-tool={entry.name}
          open={entry.isError}
        >
          <summary>
            <strong>{entry.name}</strong> <code>{toolSummary(entry.input)}</code>{' '}
            {entry.result === undefined ? (
              <span className="muted">running…</span>
            ) : entry.isError ? (
              <span className="error">error</span>
            ) : (
              <span className="muted">done</span>
            )}
            {subagent.length > 0 && (
              <span className="muted">
                {' '}
                · its subagent:{' '}
                {plural(subagent.filter((child) => child.kind === 'tool').length, 'tool call')}
              </span>
            )}
          </summary>
          <h3 className="muted" style={{ fontSize: '0.85rem' }}>
            Input
          </h3>
          <pre>{JSON.stringify(entry.input, null, 2)}</pre>
          {subagent.length > 0 && (
            <div className="subagent" role="group" aria-label={`What the subagent of ${entry.name} did`}>
              {subagent.map((child) => (
                <TranscriptEntry key={child.seq} entry={child} nested={nested} />
              ))}
            </div>
          )}
          {entry.result !== undefined && (
            <>
              <h3 className="muted" style={{ fontSize: '0.85rem' }}>
                {entry.isError ? 'Error' : 'Result'}
              </h3>
              <pre>{entry.result}</pre>
            </>
          )}
        </details>
      );
    }
    case 'retry':
      return (
        <div className="entry stderr" data-seq={entry.seq}>
          <strong>⟳ </strong>
          {entry.text}
        </div>
      );
    case 'warning':
      return (
        <div className="entry stderr" data-seq={entry.seq} data-kind="warning">
          <strong>⚠ </strong>
          {entry.text}
        </div>
      );
    case 'stderr':
      return (
        <div className="entry stderr" data-seq={entry.seq}>
          <strong>stderr </strong>
          <code>{entry.text}</code>
        </div>
      );
    case 'truncated':
      return (
        <details className="entry stderr" data-seq={entry.seq} data-kind="truncated">
          <summary>
            <strong>{entry.stream} line truncated</strong>, {formatBytes(entry.bytes)}: only its start was
            kept
          </summary>
          <pre>{entry.head.slice(0, TRUNCATED_PREVIEW_CHARS)}</pre>
        </details>
      );
    case 'status':
    case 'init':
      return (
        <div className="entry status" data-seq={entry.seq}>
          {entry.text}
        </div>
      );
    case 'result':
      return (
        <div className={`entry ${entry.isError ? 'stderr' : 'assistant'}`} data-seq={entry.seq}>
          <strong>{entry.isError ? 'The agent ended with an error' : 'The agent finished'}</strong>
          {entry.text && <AgentMarkdown>{entry.text}</AgentMarkdown>}
        </div>
      );
  }
}

// Enough of a truncated line to recognise it; the rest is in the task's events.
const TRUNCATED_PREVIEW_CHARS = 4000;

// The one argument that says what a call does: the file, the command, the pattern.
function toolSummary(input: unknown): string {
  if (!input || typeof input !== 'object') return '';
  const fields = input as Record<string, unknown>;
  for (const key of ['file_path', 'path', 'command', 'pattern', 'url', 'description']) {
    if (typeof fields[key] === 'string') return fields[key].slice(0, 120);
  }
  return '';
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
