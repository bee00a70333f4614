import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import {
  SOCKET_NAMESPACE,
  SocketEvents,
  type AgentEvent,
  type CreatedApiToken,
  type ResyncMessage,
  type SubscribeAck,
  type Task,
  type TopicEvent,
  type TopicEventsMessage,
} from '@hangar/contracts';
import { createPrismaClient, TaskEventRepository, type PrismaClient } from '@hangar/db';
import { createRedis, TaskEventLog, TaskEventStream } from '@hangar/redis';
import { freePort, redisUrl, ServiceStack, type ServiceProcess } from '@hangar/testing';
import { startNginx, type Nginx } from '@hangar/testing/nginx';
import { createTask, follow, request, signIn } from './support';

const text = (value: string): AgentEvent => ({ type: 'assistant.text', data: { text: value } });
const completed: AgentEvent = { type: 'task.status', data: { status: 'COMPLETED' } };
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

// The websocket-pool for real: two replicas behind Debian's NGINX, events written to Redis and
// Postgres by TaskEventLog (what the agent-runner writes with), clients of our own and Python's.
describe('realtime streaming', () => {
  let stack: ServiceStack;
  let nginx: Nginx;
  let prisma: PrismaClient;
  const redis = createRedis(redisUrl());
  let stream: TaskEventStream;
  const replicas = new Map<string, { port: number; process: ServiceProcess }>();
  // The Python client of the first test (killed at the end if a failure left it running).
  let python: ChildProcess | undefined;

  async function startReplica(name: string, port: number, env: Record<string, string> = {}) {
    const process = stack.spawn('websocket-pool', {
      WEBSOCKET_POOL_PORT: String(port),
      REPLICA_ID: name,
      ...env,
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (process.child.exitCode !== null) throw new Error(`${name} exited:\n${process.output.join('\n')}`);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline)
        throw new Error(`${name} not ready:\n${process.output.slice(-20).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    replicas.set(name, { port, process });
    return process;
  }

  async function stopReplica(name: string, signal: NodeJS.Signals) {
    const replica = replicas.get(name)!;
    replica.process.child.kill(signal);
    await replica.process.exited;
  }

  // Writes events as the agent-runner does: the Redis stream at once, Postgres in batches.
  function producer(taskId: string) {
    return new TaskEventLog(taskId, stream, new TaskEventRepository(prisma), { minSeq: 1 });
  }

  beforeAll(async () => {
    stack = await ServiceStack.create('realtime', { WS_MAX_SUBSCRIPTIONS: '20', WS_DRAIN_MS: '3000' });
    stream = new TaskEventStream(redis, { prefix: stack.redisPrefix });
    prisma = createPrismaClient(stack.database.url);
    // No runner: the tasks stay queued, and this test writes their events.
    await stack.start(['gateway']);
    const ports = { a: await freePort(), b: await freePort() };
    await Promise.all([startReplica('pool-a', ports.a), startReplica('pool-b', ports.b)]);
    nginx = await startNginx({
      dir: path.join(stack.dataDir, 'nginx'),
      port: await freePort(),
      gateway: stack.ports.get('gateway')!,
      pools: [ports.a, ports.b],
    });
  });

  afterAll(async () => {
    if (python && python.exitCode === null) python.kill('SIGKILL');
    await nginx?.stop();
    for (const replica of replicas.values()) {
      if (replica.process.child.exitCode === null) replica.process.child.kill('SIGKILL');
    }
    await prisma?.$disconnect();
    await redis.quit();
    await stack?.dispose();
  });

  it('should give every client the same complete sequence while replicas are killed and drained', async () => {
    const created = await request(stack, 'POST', '/api/v1/tasks', { prompt: 'stream' });
    const task = created.body as Task;
    // The REST API is behind the same NGINX.
    const viaNginx = await fetch(`${nginx.url}/api/v1/tasks/${task.id}`, {
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    expect(viaNginx.status).toBe(200);

    const followers = Array.from({ length: 6 }, () => follow(stack, task.id, 0, nginx.url));
    await Promise.all(followers.map((follower) => follower.ack));
    expect(new Set(followers.map((follower) => follower.replicas[0]))).toEqual(new Set(['pool-a', 'pool-b']));
    const client = spawn('/usr/bin/python3', [
      path.join(__dirname, 'python', 'follow_task.py'),
      nginx.url,
      stack.adminToken,
      task.id,
    ]);
    let pythonOut = '';
    python = client;
    client.stdout.on('data', (chunk: Buffer) => (pythonOut += chunk.toString('utf8')));
    let pythonErr = '';
    client.stderr.on('data', (chunk: Buffer) => (pythonErr += chunk.toString('utf8')));
    const pythonDone = new Promise<number | null>((resolve) => client.once('exit', resolve));

    const log = producer(task.id);
    const total = 3000;
    for (let seq = 1; seq <= total; seq += 10) {
      await log.append(range(seq, seq + 9).map((value) => text(`event ${value}`)));
      if (seq === 1001) {
        // Killed without warning: its clients reconnect through NGINX to the other replica.
        await stopReplica('pool-a', 'SIGKILL');
        await startReplica('pool-a', replicas.get('pool-a')!.port);
      }
      if (seq === 2001) {
        // Stopped politely: it tells its clients to go, and goes.
        await stopReplica('pool-b', 'SIGTERM');
      }
    }
    await log.append([completed]);
    await log.flush();

    const all = await within(60_000, Promise.all(followers.map((follower) => follower.finished)), () =>
      followers
        .map(
          (follower) =>
            `last ${follower.events.at(-1)?.seq} via ${follower.replicas.join(' → ')}, ${follower.history.join(', ')}`,
        )
        .join('; '),
    );
    for (const events of all) expect(events.map((event) => event.seq)).toEqual(range(1, total + 1));
    // Everyone ended on pool-a, the only replica left; those that began on pool-b moved twice.
    for (const follower of followers) expect(follower.replicas.at(-1)).toBe('pool-a');
    expect(followers.some((follower) => follower.replicas.length >= 3)).toBe(true);
    followers.forEach((follower) => follower.close());

    expect({
      exit: await within(60_000, pythonDone, () => `python: ${pythonOut.slice(-300)} ${pythonErr}`),
      stderr: pythonErr,
    }).toEqual({ exit: 0, stderr: '' });
    const lines = pythonOut
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq?: number; error?: unknown; notice?: string })
      .filter((line) => line.notice === undefined);
    expect(lines.filter((line) => line.error)).toEqual([]);
    expect(lines.map((line) => line.seq)).toEqual(range(1, total + 1));
    await startReplica('pool-b', replicas.get('pool-b')!.port);
  });

  it("should drain only its own clients: another replica's stay connected", async () => {
    const direct = (name: string) =>
      io(`http://127.0.0.1:${replicas.get(name)!.port}${SOCKET_NAMESPACE}`, {
        transports: ['websocket'],
        reconnection: false,
        auth: { token: stack.adminToken },
      });
    const stays = direct('pool-a');
    // This one ignores the drain notice: pool-b closes it itself once WS_DRAIN_MS is over.
    const lingers = direct('pool-b');
    await Promise.all(
      [stays, lingers].map(
        (socket) => new Promise<void>((resolve) => socket.once('connect', () => resolve())),
      ),
    );
    const lingerClosed = new Promise<string>((resolve) => lingers.once('disconnect', resolve));
    const staysClosed: string[] = [];
    stays.on('disconnect', (reason) => staysClosed.push(reason));
    await stopReplica('pool-b', 'SIGTERM');
    expect(await lingerClosed).toEqual(expect.any(String));
    // A round trip after pool-b is gone: pool-a had its chance to act on whatever pool-b sent.
    const task = await createTask(stack, { prompt: 'still here' });
    const ack = await new Promise<SubscribeAck | string>((resolve) => {
      if (stays.disconnected) return resolve('disconnected');
      stays.once('disconnect', resolve);
      stays.emit(SocketEvents.subscribe, { topic: `task:${task.id}` }, resolve);
    });
    expect({ ack, connected: stays.connected, closed: staysClosed }).toEqual({
      ack: expect.objectContaining({ ok: true }),
      connected: true,
      closed: [],
    });
    stays.close();
    await startReplica('pool-b', replicas.get('pool-b')!.port);
  });

  it('should replay from Postgres what the stream no longer holds and join the live events seamlessly', async () => {
    const task = await createTask(stack, { prompt: 'trimmed' });
    const log = producer(task.id);
    for (let seq = 1; seq <= 500; seq += 50)
      await log.append(range(seq, seq + 49).map((value) => text(`old ${value}`)));
    await log.flush();
    await stream.trim(task.id, 40);
    expect(await stream.firstSeq(task.id)).toBe(461);

    const follower = follow(stack, task.id, 10, nginx.url);
    expect(await follower.ack).toMatchObject({ ok: true, afterSeq: 10 });
    await follower.waitFor((event) => event.seq === 500);
    for (let seq = 501; seq <= 600; seq += 10)
      await log.append(range(seq, seq + 9).map((value) => text(`new ${value}`)));
    await log.append([completed]);
    const events = await follower.finished;
    follower.close();
    expect(events.map((event) => event.seq)).toEqual(range(11, 601));
    expect(events[0]).toMatchObject({ data: { text: 'old 11' } });
    expect(events[589]).toMatchObject({ data: { text: 'new 600' } });
    expect(events[590]).toMatchObject({ type: 'task.status', data: { status: 'COMPLETED' } });
    await log.flush();
  });

  it('should tell a client that stops reading to resync, and keep its own memory bounded', async () => {
    const task = await createTask(stack, { prompt: 'slow reader' });
    const { port, process } = replicas.get('pool-a')!;
    const rss = () =>
      Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${process.child.pid}/status`, 'utf8'))?.[1]) * 1024;
    const client = await rawClient(port, stack.adminToken);
    await client.subscribe(`task:${task.id}`);
    const before = rss();
    client.pause();

    // 10,000 events of 4 KB: 40 MB the replica would hold for this client if it buffered without bound.
    const log = producer(task.id);
    const payload = 'x'.repeat(4096);
    for (let seq = 1; seq <= 10_000; seq += 100) {
      await log.append(range(seq, seq + 99).map(() => text(payload)));
      await log.flush();
    }
    const grown = rss() - before;
    client.resume();
    const resync = await client.resynced;
    expect(resync).toMatchObject({ topic: `task:${task.id}`, reason: 'slow-consumer' });
    // Everything it got came in order, and it is told to go on from the last of it.
    expect(client.seqs).toEqual(range(1, client.seqs.length));
    expect(resync.afterSeq).toBe(client.seqs.length);
    expect(client.seqs.length).toBeLessThan(10_000);
    expect(grown).toBeLessThan(40 * 1024 * 1024);
    client.close();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/hangar_ws_resyncs_total\{reason="slow-consumer"[^}]*\} [1-9]/);
  });

  describe('who may connect and watch', () => {
    let betaToken: string;
    let viewerSession: string;

    beforeAll(async () => {
      const admin = await signIn(stack, stack.admin.email, stack.admin.password);
      const as = { authorization: '', cookie: admin };
      await request(stack, 'POST', '/api/v1/projects', { slug: 'beta', name: 'Beta' }, as);
      const token = await request(stack, 'POST', '/api/v1/tokens?project=beta', { name: 'beta' }, as);
      betaToken = (token.body as CreatedApiToken).token;
      const viewer = await request(
        stack,
        'POST',
        '/api/v1/users',
        {
          email: 'viewer@example.com',
          name: 'Viewer',
          password: 'viewer-password-1',
        },
        as,
      );
      await request(
        stack,
        'PUT',
        `/api/v1/projects/default/members/${(viewer.body as { id: string }).id}`,
        { role: 'viewer' },
        as,
      );
      viewerSession = await signIn(stack, 'viewer@example.com', 'viewer-password-1');
    });

    const connectTo = (options: { token?: string; cookie?: string; origin?: string }) => {
      const headers: Record<string, string> = {};
      if (options.cookie) headers.cookie = options.cookie;
      if (options.origin) headers.origin = options.origin;
      return io(`${nginx.url}${SOCKET_NAMESPACE}`, {
        transports: ['websocket'],
        reconnection: false,
        extraHeaders: headers,
        ...(options.token ? { auth: { token: options.token } } : {}),
      });
    };
    const refusal = (socket: Socket) =>
      new Promise<{ message: string; code: string | undefined }>((resolve, reject) => {
        socket.once('connect', () => reject(new Error('connected')));
        socket.once('connect_error', (error: Error & { data?: { code?: string } }) =>
          resolve({ message: error.message, code: error.data?.code }),
        );
      });
    const connected = (socket: Socket) =>
      new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const subscribe = (socket: Socket, topic: string) =>
      new Promise<SubscribeAck>((resolve) => socket.emit(SocketEvents.subscribe, { topic }, resolve));

    it('should refuse a handshake without a caller, or with a token that is not one', async () => {
      for (const socket of [connectTo({}), connectTo({ token: 'hgr_' + 'A'.repeat(40) })]) {
        const refused = await refusal(socket);
        expect(refused.code).toBe('UNAUTHENTICATED');
        expect(refused.message).toMatch(/token/);
        socket.close();
      }
    });

    it('should answer UNKNOWN for a topic of another project, as for one that does not exist', async () => {
      const task = await createTask(stack, { prompt: 'default only' });
      const socket = connectTo({ token: betaToken });
      await connected(socket);
      expect(await subscribe(socket, `task:${task.id}`)).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN' },
      });
      expect(await subscribe(socket, 'task:nope')).toMatchObject({ ok: false, error: { code: 'UNKNOWN' } });
      expect(await subscribe(socket, 'project:default')).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN' },
      });
      expect(await subscribe(socket, 'project:beta')).toMatchObject({ ok: true });
      expect(await subscribe(socket, 'nonsense')).toMatchObject({
        ok: false,
        error: { code: 'INVALID_REQUEST' },
      });
      socket.close();
    });

    it('should let a viewer watch its project only, and refuse its session from another site', async () => {
      const task = await createTask(stack, { prompt: 'watched' });
      const socket = connectTo({ cookie: viewerSession });
      await connected(socket);
      expect(await subscribe(socket, `task:${task.id}`)).toMatchObject({ ok: true });
      expect(await subscribe(socket, 'project:beta')).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN' },
      });
      socket.close();
      const hijack = connectTo({ cookie: viewerSession, origin: 'https://evil.example.com' });
      expect(await refusal(hijack)).toMatchObject({
        code: 'UNAUTHENTICATED',
        message: expect.stringContaining('another site'),
      });
      hijack.close();
    });

    it('should cap the subscriptions of a connection with TOO_MANY_SUBSCRIPTIONS', async () => {
      const tasks = await Promise.all(
        Array.from({ length: 21 }, () => createTask(stack, { prompt: 'many' })),
      );
      const socket = connectTo({ token: stack.adminToken });
      await connected(socket);
      const acks: SubscribeAck[] = [];
      for (const task of tasks) acks.push(await subscribe(socket, `task:${task.id}`));
      expect(acks.slice(0, 20).every((ack) => ack.ok)).toBe(true);
      expect(acks[20]).toMatchObject({ ok: false, error: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
      socket.close();
    });

    it('should close the live connections of a token when it is revoked', async () => {
      const admin = await signIn(stack, stack.admin.email, stack.admin.password);
      const made = await request(
        stack,
        'POST',
        '/api/v1/tokens?project=default',
        { name: 'short' },
        { authorization: '', cookie: admin },
      );
      const token = made.body as CreatedApiToken;
      const socket = connectTo({ token: token.token });
      await connected(socket);
      const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      await request(stack, 'DELETE', `/api/v1/tokens/${token.id}`, undefined, {
        authorization: '',
        cookie: admin,
      });
      expect(await closed).toBe('io server disconnect');
    });

    it('should close what a sign-out, a removal from the project and a disabled user end, and only that', async () => {
      const admin = {
        authorization: '',
        cookie: await signIn(stack, stack.admin.email, stack.admin.password),
      };
      const made = await request(
        stack,
        'POST',
        '/api/v1/users',
        { email: 'leaver@example.com', name: 'Leaver', password: 'leaver-password-1' },
        admin,
      );
      const leaverId = (made.body as { id: string }).id;
      const join = () =>
        request(stack, 'PUT', `/api/v1/projects/default/members/${leaverId}`, { role: 'operator' }, admin);
      await join();
      const [first, second] = [
        await signIn(stack, 'leaver@example.com', 'leaver-password-1'),
        await signIn(stack, 'leaver@example.com', 'leaver-password-1'),
      ];
      const token = (
        await request(
          stack,
          'POST',
          '/api/v1/tokens?project=default',
          { name: 'leaver' },
          {
            authorization: '',
            cookie: first,
          },
        )
      ).body as CreatedApiToken;
      const task = await createTask(stack, { prompt: 'watched by the leaver' });
      const sockets = {
        first: connectTo({ cookie: first }),
        second: connectTo({ cookie: second }),
        token: connectTo({ token: token.token }),
      };
      await Promise.all(Object.values(sockets).map(connected));
      const closed = (socket: Socket) => new Promise<string>((resolve) => socket.once('disconnect', resolve));
      // Still served: a subscribe answered after the close went out to every replica.
      const alive = async (socket: Socket) =>
        expect(await subscribe(socket, `task:${task.id}`)).toMatchObject({ ok: true });

      const firstClosed = closed(sockets.first);
      await request(stack, 'POST', '/api/v1/auth/logout', undefined, { authorization: '', cookie: first });
      expect(await firstClosed).toBe('io server disconnect');
      await alive(sockets.second);
      await alive(sockets.token);

      const rest = [closed(sockets.second), closed(sockets.token)];
      await request(stack, 'DELETE', `/api/v1/projects/default/members/${leaverId}`, undefined, admin);
      expect(await Promise.all(rest)).toEqual(['io server disconnect', 'io server disconnect']);
      // Back as what they are now: no longer a member, so nothing of the project to watch.
      const again = connectTo({ cookie: second });
      await connected(again);
      expect(await subscribe(again, `task:${task.id}`)).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN' },
      });
      again.close();

      // A new password ends the sessions' connections, not the tokens'; disabling ends all.
      await join();
      const session = await signIn(stack, 'leaver@example.com', 'leaver-password-1');
      const later = {
        session: connectTo({ cookie: session }),
        token: connectTo({ token: token.token }),
      };
      await Promise.all(Object.values(later).map(connected));
      const sessionClosed = closed(later.session);
      const changed = await request(
        stack,
        'PATCH',
        `/api/v1/users/${leaverId}`,
        { password: 'leaver-password-2', currentPassword: 'leaver-password-1' },
        { authorization: '', cookie: session },
      );
      expect(changed.status).toBe(200);
      expect(await sessionClosed).toBe('io server disconnect');
      await alive(later.token);
      const tokenClosed = closed(later.token);
      await request(stack, 'PATCH', `/api/v1/users/${leaverId}`, { disabled: true }, admin);
      expect(await tokenClosed).toBe('io server disconnect');
    });

    it('should refuse connections past the cap at once, with the reason', async () => {
      const port = await freePort();
      await startReplica('pool-full', port, { WS_MAX_CONNECTIONS: '1' });
      const first = io(`http://127.0.0.1:${port}${SOCKET_NAMESPACE}`, {
        transports: ['websocket'],
        auth: { token: stack.adminToken },
      });
      await connected(first);
      const refused = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('OVERLOADED');
      first.close();
      await stopReplica('pool-full', 'SIGTERM');
    });
  });

  it('should carry task status changes and counts on a project topic, and messages on a conversation', async () => {
    const socket = io(`${nginx.url}${SOCKET_NAMESPACE}`, {
      transports: ['websocket'],
      auth: { token: stack.adminToken },
    });
    type Received = TopicEvent & { topic: string };
    const received: Received[] = [];
    const arrived = (predicate: (message: Received) => boolean) =>
      new Promise<Received>((resolve) => {
        const seen = received.find(predicate);
        if (seen) return resolve(seen);
        socket.on(SocketEvents.events, (message: TopicEventsMessage) => {
          const match = message.events.map((event) => ({ ...event, topic: message.topic })).find(predicate);
          if (match) resolve(match);
        });
      });
    socket.on(SocketEvents.events, (message: TopicEventsMessage) =>
      received.push(...message.events.map((event) => ({ ...event, topic: message.topic }))),
    );
    await new Promise<SubscribeAck>((resolve) =>
      socket.emit(SocketEvents.subscribe, { topic: 'project:default' }, resolve),
    );
    const task = await createTask(stack, { prompt: 'counted' });
    const status = await arrived((message) => (message.data as { taskId?: string }).taskId === task.id);
    expect(status).toMatchObject({
      topic: 'project:default',
      type: 'task.status',
      data: { taskId: task.id, status: 'QUEUED', counts: { queued: expect.any(Number), running: 0 } },
    });
    expect((status.data as { counts: { queued: number } }).counts.queued).toBeGreaterThan(0);

    const conversation = (await request(stack, 'POST', '/api/v1/conversations', { title: 'chat' })).body as {
      conversation: { id: string };
    };
    const topic = `conversation:${conversation.conversation.id}`;
    await new Promise<SubscribeAck>((resolve) => socket.emit(SocketEvents.subscribe, { topic }, resolve));
    await request(stack, 'POST', `/api/v1/conversations/${conversation.conversation.id}/messages`, {
      content: 'hello',
    });
    const message = await arrived(
      (candidate) => candidate.topic === topic && candidate.type === 'message.created',
    );
    expect(message).toMatchObject({ seq: 1, data: { role: 'user', content: 'hello' } });
    expect(
      await arrived((candidate) => candidate.topic === topic && candidate.type === 'turn.status'),
    ).toMatchObject({
      seq: 2,
      data: { status: 'QUEUED' },
    });
    socket.close();
  });

  it('should report connections, subscriptions, events out and delivery latency', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${replicas.get('pool-a')!.port}/metrics`)).text();
    expect(metrics).toMatch(/hangar_ws_connections\{state="active"[^}]*\} \d/);
    expect(metrics).toMatch(/hangar_ws_events_out_total\{source="replay"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/hangar_ws_events_out_total\{source="live"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/hangar_ws_delivery_latency_seconds_count\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/hangar_ws_subscriptions\{kind="task"[^}]*\} \d/);
  });
});

// `work`, or a failure that says where things stood (instead of a bare test timeout).
async function within<T>(ms: number, work: Promise<T>, state: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms: ${state()}`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// A Socket.IO client spoken by hand over a raw WebSocket, so a test can stop reading it.
async function rawClient(port: number, token: string) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  const seqs: number[] = [];
  let resolveResync: (message: ResyncMessage) => void = () => undefined;
  const resynced = new Promise<ResyncMessage>((resolve) => (resolveResync = resolve));
  const acks = new Map<number, (ack: unknown) => void>();
  let ackId = 0;
  let connected: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  socket.on('message', (data: Buffer) => {
    const frame = data.toString('utf8');
    if (frame === '2') return socket.send('3'); // ping → pong
    if (frame.startsWith('0')) return socket.send(`40${SOCKET_NAMESPACE},${JSON.stringify({ token })}`);
    if (frame.startsWith(`40${SOCKET_NAMESPACE},`)) return connected();
    const ack = new RegExp(`^43${SOCKET_NAMESPACE},(\\d+)(.*)$`).exec(frame);
    if (ack) return acks.get(Number(ack[1]))?.((JSON.parse(ack[2]!) as unknown[])[0]);
    const event = new RegExp(`^42${SOCKET_NAMESPACE},(.*)$`).exec(frame);
    if (!event) return;
    const [name, payload] = JSON.parse(event[1]!) as [string, unknown];
    if (name === SocketEvents.events)
      seqs.push(...(payload as TopicEventsMessage).events.map((event) => event.seq));
    if (name === SocketEvents.resync) resolveResync(payload as ResyncMessage);
  });
  await ready;
  const underlying = (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  return {
    seqs,
    resynced,
    subscribe: (topic: string) =>
      new Promise<unknown>((resolve) => {
        ackId += 1;
        acks.set(ackId, resolve);
        socket.send(`42${SOCKET_NAMESPACE},${ackId}${JSON.stringify([SocketEvents.subscribe, { topic }])}`);
      }),
    pause: () => underlying.pause(),
    resume: () => underlying.resume(),
    close: () => socket.close(),
  };
}
