import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import {
  TERMINAL_STATUSES,
  type SocketErrorCode,
  type SubscribeAck,
  type Task,
  type TaskEvent,
  type Topic,
  type TopicEvent,
  type WorkflowRunActivity,
} from '@hangar/contracts';
import type { ServiceStack } from '@hangar/testing';
import { TopicConnection, type ConnectionNotice } from '@hangar/topics';

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

// The stack's first user (an instance admin), signed in: the headers to send as them.
export async function asInstanceAdmin(stack: ServiceStack): Promise<Record<string, string>> {
  return { authorization: '', cookie: await signIn(stack, stack.admin.email, stack.admin.password) };
}

// A new user `name` (name@example.com), made a `role` of `project` by the instance admin, signed
// in: the headers to send as them. `create` makes the project first.
export async function signedInMember(
  stack: ServiceStack,
  member: { name: string; project: string; role: 'viewer' | 'operator' | 'admin'; create?: boolean },
): Promise<Record<string, string>> {
  const admin = await asInstanceAdmin(stack);
  const expectStatus = (response: ApiResponse, status: number, what: string) => {
    if (response.status !== status)
      throw new Error(`${what} answered ${response.status}: ${JSON.stringify(response.body)}`);
  };
  if (member.create)
    expectStatus(
      await request(stack, 'POST', '/api/v1/projects', { slug: member.project, name: member.project }, admin),
      201,
      `creating project ${member.project}`,
    );
  const email = `${member.name}@example.com`;
  const password = `${member.name}-password-1`;
  const user = await request(stack, 'POST', '/api/v1/users', { email, name: member.name, password }, admin);
  expectStatus(user, 201, `creating user ${email}`);
  expectStatus(
    await request(
      stack,
      'PUT',
      `/api/v1/projects/${member.project}/members/${(user.body as { id: string }).id}`,
      { role: member.role },
      admin,
    ),
    200,
    `making ${email} a ${member.role} of ${member.project}`,
  );
  return { authorization: '', cookie: await signIn(stack, email, password) };
}

// Claude Code profiles whose `git push` waits for an operator's approval, each with its deadline
// in seconds (docs/governance.md).
export async function createGatedProfiles(
  stack: ServiceStack,
  deadlines: Record<string, number>,
): Promise<void> {
  for (const [name, timeoutSeconds] of Object.entries(deadlines)) {
    const response = await request(stack, 'POST', '/api/v1/profiles', {
      name,
      allowedTools: ['Bash'],
      approvals: { tools: ['Bash(git push:*)'], timeoutSeconds },
    });
    if (response.status !== 201)
      throw new Error(
        `creating profile ${name} answered ${response.status}: ${JSON.stringify(response.body)}`,
      );
  }
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

// A task created, followed to its end, and read back as it ended.
export async function runTask(stack: ServiceStack, body: Record<string, unknown>): Promise<Task> {
  const task = await createTask(stack, body);
  const follower = follow(stack, task.id);
  await follower.finished;
  follower.close();
  return getTask(stack, task.id);
}

export async function getTask(stack: ServiceStack, id: string): Promise<Task> {
  return (await request(stack, 'GET', `/api/v1/tasks/${id}`)).body as Task;
}

// Every follower's connection until it is closed: a test that failed while waiting leaves its
// followers open (reconnecting to a stack that is gone), and jest would then never exit. The
// e2e setup closes what is left after each file (test/close-followers.ts).
const openConnections = new Set<TopicConnection>();

export function closeFollowers(): void {
  for (const connection of openConnections) connection.close();
  openConnections.clear();
}

export interface TopicFollower<E> {
  events: E[];
  // The replicas it was served by, in order (from each connection's hello).
  replicas: string[];
  // What happened to its connection (connects, disconnects and why, drains, resyncs), for
  // failure messages.
  history: string[];
  // The pool's first answer to the subscription.
  ack: Promise<SubscribeAck>;
  // Resolves with every event once the topic's last event (a terminal status) has arrived.
  finished: Promise<E[]>;
  waitFor(predicate: (event: E) => boolean): Promise<E>;
  close(): void;
}

export type Follower = TopicFollower<TaskEvent>;

// Watches a task over Socket.IO (/v1) as the stack's admin, through the one topic client
// (@hangar/topics): it subscribes again from its last sequence number after a reconnect, a resync
// or a drain. Stricter than a client need be: an event it already had fails the test.
export function follow(
  stack: ServiceStack,
  taskId: string,
  afterSeq?: number,
  url = stack.websocketUrl,
): Follower {
  return followTopic<TaskEvent>(stack, `task:${taskId}`, {
    afterSeq,
    url,
    toEvent: (event) => ({ ...event, taskId }) as TaskEvent,
    isLast: (event) => event.type === 'task.status' && TERMINAL_STATUSES.includes(event.data.status),
  });
}

// One event of a workflow run's topic: a step's change or the run's (WorkflowRunActivity).
export type RunTopicEvent = WorkflowRunActivity & { seq: number; at: string };
export type RunFollower = TopicFollower<RunTopicEvent>;

// Watches a workflow run (`workflow-run:<id>`) as `follow` watches a task: `finished` resolves
// once a `run.status` with a terminal status has arrived.
export function followRun(stack: ServiceStack, runId: string): RunFollower {
  return followTopic<RunTopicEvent>(stack, `workflow-run:${runId}`, {
    toEvent: (event) => event as RunTopicEvent,
    isLast: (event) => event.type === 'run.status' && event.data.status !== 'RUNNING',
  });
}

function followTopic<E>(
  stack: ServiceStack,
  topic: Topic,
  options: {
    afterSeq?: number | undefined;
    url?: string;
    toEvent: (event: TopicEvent) => E;
    isLast: (event: E) => boolean;
  },
): TopicFollower<E> {
  const { afterSeq, url = stack.websocketUrl, toEvent, isLast } = options;
  const history: string[] = [];
  const replicas: string[] = [];
  const connection = new TopicConnection({
    url,
    token: stack.adminToken,
    reconnectionDelayMs: 100,
    reconnectionDelayMaxMs: 500,
    onNotice: (notice) => {
      if (notice.kind === 'hello') replicas.push(notice.replica);
      else history.push(describeNotice(notice));
    },
  });
  openConnections.add(connection);
  const events: E[] = [];
  const waiters: { predicate: (event: E) => boolean; resolve: (event: E) => void }[] = [];
  let finish: (events: E[]) => void = () => undefined;
  const finished = new Promise<E[]>((resolve) => (finish = resolve));
  let acked: (ack: SubscribeAck) => void = () => undefined;
  const ack = new Promise<SubscribeAck>((resolve) => (acked = resolve));
  connection.follow(topic, {
    afterSeq,
    onSubscribed: (answer) => {
      history.push(`subscribed after ${answer.afterSeq}`);
      acked({ ok: true, ...answer });
    },
    onState: (state, _subscription, refusal) => {
      if (state !== 'refused' || !refusal) return;
      history.push(`refused ${refusal.code}`);
      acked({ ok: false, error: refusal as { code: SocketErrorCode; message: string } });
    },
    onRepeat: (event, last) => {
      throw new Error(`${topic}: seq ${event.seq} again (had ${last})`);
    },
    onEvents: (received) => {
      for (const entry of received) {
        const event = toEvent(entry);
        events.push(event);
        for (const waiter of waiters.filter((w) => w.predicate(event))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
        if (isLast(event)) finish(events);
      }
    },
  });
  return {
    events,
    replicas,
    history,
    ack,
    finished,
    waitFor: (predicate) => {
      const seen = events.find(predicate);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    close: () => {
      openConnections.delete(connection);
      connection.close();
    },
  };
}

function describeNotice(notice: Exclude<ConnectionNotice, { kind: 'hello' }>): string {
  switch (notice.kind) {
    case 'connected':
      return `connect ${notice.id}`;
    case 'disconnected':
      return `disconnect ${notice.reason}`;
    case 'connect-failed':
      return `connect_error ${notice.message}`;
    case 'drain':
      return 'drain';
    case 'resync':
      return 'resync';
  }
}

// A sample's value in a Prometheus text exposition: the line of `name` carrying every label given
// (0 when there is none).
export function sampleOf(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  const line = text
    .split('\n')
    .find(
      (candidate) =>
        (candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `)) &&
        wanted.every((pair) => candidate.includes(pair)),
    );
  return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? 0);
}

// The stack's agent-runner's /metrics.
export async function runnerMetrics(stack: ServiceStack): Promise<string> {
  return (await fetch(`http://127.0.0.1:${stack.ports.get('agent-runner')}/metrics`)).text();
}

// Alive: not gone and not a zombie (a sandbox's inner process, reparented to this machine's init,
// may wait a while to be reaped).
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

// The live processes working inside `dir` (agents and their sandboxes run in their workspace).
export function livePidsIn(stack: ServiceStack, dir: string): number[] {
  return stack.processesIn(dir).filter(processAlive);
}

// Resolves when `holds` is true: for what no event announces (a process gone from the table).
export async function waitUntil(holds: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Reads until `done` holds of what `read` answers, and answers that: for what is stored with no
// event to await (spans the services and the CLIs export in their own time).
export async function readUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  what: (last: T) => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what(value)}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// A span as the metrics service stored it (telemetry_spans).
export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  service: string;
  status_code: number;
  attributes: Record<string, unknown>;
}

// A finished task as the API shows it, and its diff.
export async function taskWithDiff(
  stack: ServiceStack,
  taskId: string,
): Promise<{ task: Task; diff: Record<string, unknown> }> {
  const task = (await request(stack, 'GET', `/api/v1/tasks/${taskId}`)).body as Task;
  const diff = (await request(stack, 'GET', `/api/v1/tasks/${taskId}/diff`)).body as Record<string, unknown>;
  return { task, diff };
}

// What a run showed its watchers, without what differs between any two runs (ids, times, costs;
// `workspace`, where the run's workspace was, as <workspace>): a warm and a cold run compare equal.
export function eventShape(events: TaskEvent[], workspace?: string): string[] {
  const text = (value: unknown) =>
    workspace ? String(value).replaceAll(workspace, '<workspace>') : String(value);
  return events.map((event) => {
    if (event.type === 'task.status') return `status ${event.data.status}`;
    if (event.type === 'tool.use')
      return `tool.use ${event.data.name} ${text(JSON.stringify(event.data.input))}`;
    if (event.type === 'tool.result') return `tool.result ${event.data.isError} ${text(event.data.content)}`;
    if (event.type === 'assistant.text') return `text ${event.data.text}`;
    if (event.type === 'result')
      return `result ${event.data.subtype} ${event.data.isError} ${event.data.result}`;
    return event.type;
  });
}

// A diff without its commit (which differs between any two runs).
export function comparableDiff(diff: Record<string, unknown>) {
  return {
    files: diff['files'],
    linesAdded: diff['linesAdded'],
    linesRemoved: diff['linesRemoved'],
    unifiedDiff: String(diff['unifiedDiff']),
  };
}
