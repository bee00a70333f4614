import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import {
  SocketEvents,
  TERMINAL_STATUSES,
  type SubscribeAck,
  type Task,
  type TaskEvent,
} from '@hangar/contracts';
import type { ServiceStack } from '@hangar/testing';

// As the stack's admin token unless `headers` say otherwise (an `authorization` of '' sends none).
export interface ApiResponse {
  status: number;
  contentType: string;
  headers: Headers;
  body: unknown;
}

export async function request(
  stack: ServiceStack,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const { authorization = `Bearer ${stack.adminToken}`, ...rest } = headers;
  const response = await fetch(`${stack.gatewayUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(authorization === '' ? {} : { authorization }),
      ...rest,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    headers: response.headers,
    body: text ? (JSON.parse(text) as unknown) : null,
  };
}

// Signs in through the API and answers the session cookie to send back (`cookie` header).
export async function signIn(stack: ServiceStack, email: string, password: string): Promise<string> {
  const response = await fetch(`${stack.gatewayUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200)
    throw new Error(`sign-in as ${email} answered ${response.status}: ${await response.text()}`);
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith('hangar_session='));
  if (!cookie) throw new Error('sign-in set no hangar_session cookie');
  return cookie.split(';')[0]!;
}

// How many tasks the stack's database holds: "nothing recorded, nothing queued" checks.
export async function countTasks(stack: ServiceStack): Promise<number> {
  const client = new Client({ connectionString: stack.database.url });
  await client.connect();
  try {
    const result = await client.query<{ count: string }>('SELECT count(*) FROM tasks');
    return Number(result.rows[0]?.count);
  } finally {
    await client.end();
  }
}

export async function createTask(stack: ServiceStack, body: Record<string, unknown>): Promise<Task> {
  const response = await request(stack, 'POST', '/api/v1/tasks', body);
  if (response.status !== 201)
    throw new Error(`POST /api/v1/tasks answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body as Task;
}

export async function getTask(stack: ServiceStack, id: string): Promise<Task> {
  return (await request(stack, 'GET', `/api/v1/tasks/${id}`)).body as Task;
}

export interface Follower {
  events: TaskEvent[];
  ack: Promise<SubscribeAck>;
  // Resolves with every event once the terminal status event has arrived.
  finished: Promise<TaskEvent[]>;
  waitFor(predicate: (event: TaskEvent) => boolean): Promise<TaskEvent>;
  close(): void;
}

export function follow(stack: ServiceStack, taskId: string, afterSeq?: number): Follower {
  const socket: Socket = io(stack.websocketUrl, { transports: ['websocket'], reconnection: false });
  const events: TaskEvent[] = [];
  const waiters: { predicate: (event: TaskEvent) => boolean; resolve: (event: TaskEvent) => void }[] = [];
  let finish: (events: TaskEvent[]) => void = () => undefined;
  const finished = new Promise<TaskEvent[]>((resolve) => (finish = resolve));
  socket.on(SocketEvents.taskEvent, (event: TaskEvent) => {
    events.push(event);
    for (const waiter of waiters.filter((w) => w.predicate(event))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
    if (event.type === 'task.status' && TERMINAL_STATUSES.includes(event.data.status)) finish(events);
  });
  const ack = new Promise<SubscribeAck>((resolve) =>
    socket.emit(SocketEvents.subscribe, afterSeq === undefined ? { taskId } : { taskId, afterSeq }, resolve),
  );
  return {
    events,
    ack,
    finished,
    waitFor: (predicate) => {
      const seen = events.find(predicate);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    close: () => socket.close(),
  };
}
