import { io, type Socket } from 'socket.io-client';
import {
  SOCKET_NAMESPACE,
  SocketEvents,
  type SubscribeAck,
  type TopicEventsMessage,
} from '@hangar/contracts';
import { Histogram, now } from './histogram';

// One process of benchmark clients (forked by main.ts; clients are spread over several so that
// their decoding does not become the bottleneck being measured). Each client is a real
// socket.io-client over WebSocket, as the CLI and the dashboard connect — but on the protocol
// itself, not through @hangar/topics: it counts the gaps and duplicates that client would hide.

export type WorkerCommand =
  | { type: 'connect'; url: string; token: string; clients: number; topic?: string }
  | { type: 'reset' }
  | { type: 'report' }
  | { type: 'close' };

export type WorkerReply =
  | { type: 'connected'; clients: number }
  | { type: 'failed'; message: string }
  | {
      type: 'report';
      received: number;
      latency: [number, number][];
      gaps: number;
      duplicates: number;
      resyncs: number;
      lastSeqs: number[];
    };

const CONNECT_CONCURRENCY = 50;

const sockets: Socket[] = [];
const lastSeq: number[] = [];
let latency = new Histogram();
let received = 0;
let gaps = 0;
let duplicates = 0;
let resyncs = 0;

const reply = (message: WorkerReply) => process.send?.(message);

function open(url: string, token: string, index: number, topic: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = io(`${url}${SOCKET_NAMESPACE}`, {
      transports: ['websocket'],
      auth: { token },
      forceNew: true,
      reconnection: false,
    });
    sockets.push(socket);
    lastSeq[index] = 0;
    socket.once('connect_error', (error: Error & { data?: { code?: string } }) =>
      reject(new Error(`client ${index}: ${error.data?.code ?? ''} ${error.message}`)),
    );
    socket.on(SocketEvents.resync, () => (resyncs += 1));
    socket.on(SocketEvents.events, (message: TopicEventsMessage) => {
      const arrived = now();
      for (const event of message.events) {
        received += 1;
        if (event.seq <= lastSeq[index]!) duplicates += 1;
        else if (event.seq !== lastSeq[index]! + 1) gaps += 1;
        lastSeq[index] = Math.max(lastSeq[index]!, event.seq);
        const sentAt = Number((event.data as { text?: string }).text);
        if (Number.isFinite(sentAt)) latency.record(arrived - sentAt);
      }
    });
    socket.once('connect', () => {
      if (!topic) return resolve();
      socket.emit(SocketEvents.subscribe, { topic }, (ack: SubscribeAck) =>
        ack.ok ? resolve() : reject(new Error(`client ${index}: subscribe refused: ${ack.error.message}`)),
      );
    });
  });
}

async function connectAll(command: Extract<WorkerCommand, { type: 'connect' }>) {
  let next = 0;
  const lane = async () => {
    while (next < command.clients) {
      const index = next++;
      await open(command.url, command.token, index, command.topic);
    }
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, lane));
}

process.on('message', (command: WorkerCommand) => {
  switch (command.type) {
    case 'connect':
      connectAll(command).then(
        () => reply({ type: 'connected', clients: sockets.length }),
        (error: Error) => reply({ type: 'failed', message: error.message }),
      );
      break;
    case 'reset':
      latency = new Histogram();
      received = 0;
      break;
    case 'report':
      reply({
        type: 'report',
        received,
        latency: latency.toPairs(),
        gaps,
        duplicates,
        resyncs,
        lastSeqs: lastSeq,
      });
      break;
    case 'close':
      for (const socket of sockets) socket.close();
      process.exit(0);
  }
});
