'use client';

import {
  SOCKET_NAMESPACE,
  type ResyncMessage,
  type SubscribeAck,
  type TopicEvent,
  type TopicEventsMessage,
} from '@hangar/contracts';
import { useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import { useRuntimeConfig } from './runtime-config';

// One Socket.IO connection per tab (the session cookie authenticates it), shared by every
// topic a page watches. docs/realtime.md is the protocol.
let shared: Socket | undefined;

function connection(socketUrl: string): Socket {
  if (!shared) {
    const socket = io(`${socketUrl}${SOCKET_NAMESPACE}`, {
      transports: ['websocket'],
      withCredentials: true,
    });
    // The replica is going away: reconnect (to another one); each topic resubscribes on connect.
    socket.on('drain', () => {
      socket.disconnect();
      socket.connect();
    });
    shared = socket;
  }
  return shared;
}

export type TopicState = 'connecting' | 'live' | 'offline' | 'refused';

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
    const socket = connection(socketUrl);
    let last = startAfter;
    const subscribe = () =>
      socket.emit('subscribe', { topic, afterSeq: last }, (ack: SubscribeAck) =>
        setState(ack.ok ? 'live' : 'refused'),
      );
    const onMessage = (message: TopicEventsMessage) => {
      if (message.topic !== topic) return;
      const fresh = message.events.filter((event) => event.seq > last);
      if (fresh.length === 0) return;
      last = fresh[fresh.length - 1]!.seq;
      handlers.current.onEvents(fresh);
    };
    const onResync = (message: ResyncMessage) => {
      if (message.topic !== topic) return;
      last = message.afterSeq;
      if (message.reload) handlers.current.onReload?.();
      subscribe();
    };
    const onDisconnect = () => setState('offline');
    socket.on('connect', subscribe);
    socket.on('disconnect', onDisconnect);
    socket.on('events', onMessage);
    socket.on('resync', onResync);
    if (socket.connected) subscribe();
    return () => {
      socket.off('connect', subscribe);
      socket.off('disconnect', onDisconnect);
      socket.off('events', onMessage);
      socket.off('resync', onResync);
      if (socket.connected) socket.emit('unsubscribe', { topic });
    };
  }, [topic, socketUrl, startAfter]);

  return state;
}
