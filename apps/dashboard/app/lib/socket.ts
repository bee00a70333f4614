'use client';

import type { TopicEvent } from '@hangar/contracts';
import { TopicConnection, type TopicState } from '@hangar/topics';
import { useEffect, useRef, useState } from 'react';
import { useRuntimeConfig } from './runtime-config';

export type { TopicState } from '@hangar/topics';

// One Socket.IO connection per tab (the session cookie authenticates it), shared by every
// topic a page watches, through the one topic client (@hangar/topics; docs/realtime.md is the
// protocol). One follow per topic at a time on it.
let shared: TopicConnection | undefined;

function connection(socketUrl: string): TopicConnection {
  shared ??= new TopicConnection({ url: socketUrl });
  return shared;
}

export interface TopicOptions {
  // Start after this sequence number (0: the whole history).
  afterSeq?: number;
  // The history asked for is gone: reload the state over REST.
  onReload?: () => void;
}

// Every event of `topic` once, in order: the backlog first, then live; after a reconnect it
// subscribes again from the last sequence number it delivered, so nothing repeats or goes missing.
export function useTopic(
  topic: string | null,
  onEvents: (events: TopicEvent[]) => void,
  options: TopicOptions = {},
): TopicState {
  const { socketUrl } = useRuntimeConfig();
  const [state, setState] = useState<TopicState>('connecting');
  const handlers = useRef({ onEvents, onReload: options.onReload });
  handlers.current = { onEvents, onReload: options.onReload };
  const startAfter = options.afterSeq ?? 0;

  useEffect(() => {
    if (!topic) return;
    const subscription = connection(socketUrl).follow(topic, {
      afterSeq: startAfter,
      onEvents: (events) => handlers.current.onEvents(events),
      onState: (next) => setState(next),
      onReload: () => handlers.current.onReload?.(),
    });
    return () => subscription.close();
  }, [topic, socketUrl, startAfter]);

  return state;
}
