import type { TopicEvent } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { TopicConnection, type Refusal, type TopicState } from '@hangar/topics';
import { createTask, runTask } from './support';

// The one client of the websocket-pool's topics (@hangar/topics), as the dashboard, the CLI, the
// tests and the benchmarks use it, against the real pool.
describe('the topics client', () => {
  let stack: ServiceStack;
  const connections: TopicConnection[] = [];

  beforeAll(async () => {
    stack = await ServiceStack.create('topics');
    await stack.start();
  });

  afterAll(async () => {
    for (const connection of connections) connection.close();
    await stack?.dispose();
  });

  function connect(token = stack.adminToken): TopicConnection {
    const connection = new TopicConnection({ url: stack.websocketUrl, token, reconnectionDelayMs: 100 });
    connections.push(connection);
    return connection;
  }

  // Everything a follow is told, until `until` holds.
  function watch(
    connection: TopicConnection,
    topic: string,
    afterSeq: number | undefined,
    until: (told: { events: TopicEvent[]; states: TopicState[] }) => boolean,
  ) {
    const told = {
      events: [] as TopicEvent[],
      states: [] as TopicState[],
      refusal: undefined as Refusal | undefined,
    };
    const answers: number[] = [];
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const subscription = connection.follow(topic, {
      afterSeq,
      onEvents: (events) => {
        told.events.push(...events);
        if (until(told)) done();
      },
      onSubscribed: (answer) => answers.push(answer.afterSeq),
      onState: (state, _subscription, refusal) => {
        told.states.push(state);
        told.refusal = refusal;
        if (until(told)) done();
      },
    });
    return { told, answers, finished, subscription };
  }

  const ended = (told: { events: TopicEvent[] }) =>
    told.events.some(
      (event) => event.type === 'task.status' && (event.data as { status: string }).status === 'COMPLETED',
    );

  it('should hand over the events after afterSeq once, in order, several topics on one connection', async () => {
    const [first, second] = await Promise.all([
      runTask(stack, { prompt: 'one', scenario: 'reply' }),
      runTask(stack, { prompt: 'two', scenario: 'reply' }),
    ]);
    const connection = connect();

    const whole = watch(connection, `task:${first.id}`, undefined, ended);
    const rest = watch(connection, `task:${second.id}`, 2, ended);
    await Promise.all([whole.finished, rest.finished]);

    expect(whole.told.events.map((event) => event.seq)).toEqual(
      whole.told.events.map((_, index) => index + 1),
    );
    expect(whole.answers).toEqual([0]);
    expect(rest.told.events[0]!.seq).toBe(3);
    expect(rest.told.events.map((event) => event.seq)).toEqual(rest.told.events.map((_, index) => index + 3));
    expect(rest.answers).toEqual([2]);
    expect(whole.subscription.state).toBe('live');
  });

  it('should go on live and stop handing over once closed', async () => {
    const task = await createTask(stack, { prompt: 'run it', scenario: 'bash' });
    const connection = connect();
    const running = watch(connection, `task:${task.id}`, undefined, (told) =>
      told.events.some((event) => event.type !== 'task.status'),
    );
    await running.finished;
    running.subscription.close();
    const seen = running.told.events.length;

    // The rest of the task reaches another follow, not the closed one.
    const after = watch(connect(), `task:${task.id}`, running.subscription.lastSeq, ended);
    await after.finished;
    expect(running.told.events).toHaveLength(seen);
    expect(after.told.events[0]!.seq).toBe(running.subscription.lastSeq + 1);
  });

  it("should refuse a topic that is not the caller's, and every topic of a token that is not one", async () => {
    const unknown = watch(connect(), 'task:does-not-exist', undefined, (told) =>
      told.states.includes('refused'),
    );
    await unknown.finished;
    expect(unknown.told.refusal).toMatchObject({ code: 'UNKNOWN' });
    expect(unknown.subscription.state).toBe('refused');

    const stranger = watch(connect('hga_not-a-token'), 'task:whatever', undefined, (told) =>
      told.states.includes('refused'),
    );
    await stranger.finished;
    expect(stranger.told.refusal).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
