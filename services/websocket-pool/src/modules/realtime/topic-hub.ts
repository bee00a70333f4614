import { setTimeout as sleep } from 'node:timers/promises';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { parseTopic, type ResyncMessage, type Topic, type TopicEventsMessage } from '@hangar/contracts';
import { REDIS, TopicStreams, type TopicEntry } from '@hangar/redis';
import { WEBSOCKET_POOL_CONFIG, type WebsocketPoolConfig } from '../../config';
import { RealtimeMetrics } from './realtime.metrics';
import { TopicHistory } from './topic-history';

// Where a subscription's events go: a socket, in the gateway.
export interface SubscriberSink {
  // Names the client (the gateway's socket id), for a fanout that writes to many at once.
  readonly id: string;
  // Its client is not reading fast enough: nothing more may be queued to it.
  full(): boolean;
  send(message: TopicEventsMessage): void;
  resync(message: ResyncMessage): void;
}

// Sends one message to several sinks. The gateway's encodes it once for all of them (a
// Socket.IO broadcast to their socket ids): with hundreds of clients on one busy topic,
// encoding per client is most of the work.
export type Fanout = (sinks: SubscriberSink[], message: TopicEventsMessage) => void;
const oneByOne: Fanout = (sinks, message) => sinks.forEach((sink) => sink.send(message));

const REPLAY_PAGE = 500;
// Events per `events` message at most (a replay page goes out in several).
export const MAX_BATCH = 100;

// How many of `entries` follow on from `last` without a gap (entries ascending, all > last).
function consecutive(entries: TopicEntry[], last: number): number {
  let count = 0;
  while (count < entries.length && entries[count]!.seq === last + count + 1) count += 1;
  return count;
}

// One client's interest in one topic: everything after `last`, in order, each once.
export class Subscription {
  // The last sequence number sent.
  last: number;
  live = false;
  closed = false;
  // Live entries that arrived while the backlog was being replayed.
  held: TopicEntry[] = [];
  private replaying = false;

  constructor(
    readonly topic: Topic,
    afterSeq: number,
    readonly sink: SubscriberSink,
  ) {
    this.last = afterSeq;
  }

  // Replaying or already behind: the next entries wait in `held`.
  get catchingUp(): boolean {
    return this.replaying || !this.live;
  }

  markReplaying(value: boolean) {
    this.replaying = value;
  }
}

// A topic this replica reads: one cursor, shared by all its subscribers here.
interface Feed {
  topic: Topic;
  cursor: number;
  subscribers: Set<Subscription>;
}

// The replica's readers of topic streams. All topics are read by one blocking XREAD on one
// connection (a new topic interrupts it with CLIENT UNBLOCK), each topic with its own cursor;
// a topic stops being read when its last subscriber here leaves. Every subscription first
// replays its backlog (TopicHistory), holding live entries meanwhile, then goes live.
@Injectable()
export class TopicHub implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TopicHub.name);
  private readonly feeds = new Map<Topic, Feed>();
  private readonly opening = new Map<Topic, Promise<Feed>>();
  private reader: Redis | undefined;
  private readerId: number | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  // Set by the gateway once its namespace exists.
  fanout: Fanout = oneByOne;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly streams: TopicStreams,
    private readonly history: TopicHistory,
    private readonly metrics: RealtimeMetrics,
    @Inject(WEBSOCKET_POOL_CONFIG) private readonly config: WebsocketPoolConfig,
  ) {}

  onApplicationBootstrap() {
    const reader = this.redis.duplicate();
    reader.on('error', (error: Error) => this.logger.debug(`reader: ${error.message}`));
    // Its id is what CLIENT UNBLOCK names; a reconnect gets a new one.
    reader.on('ready', () => {
      void reader.client('ID').then((id) => (this.readerId = Number(id)));
    });
    this.reader = reader;
    this.loop = this.read(reader);
  }

  async onApplicationShutdown() {
    this.stopped = true;
    this.wake?.();
    this.reader?.disconnect();
    await this.loop;
  }

  get topicsRead(): number {
    return this.feeds.size;
  }

  // Registers the subscription (live entries are held from now on); `start` sends the backlog
  // and goes live. The caller acknowledges in between, so the ack precedes every event.
  async subscribe(topic: Topic, afterSeq: number, sink: SubscriberSink): Promise<Subscription> {
    const feed = await this.feed(topic);
    const subscription = new Subscription(topic, afterSeq, sink);
    feed.subscribers.add(subscription);
    this.metrics.subscriptions.inc({ kind: parseTopic(topic).kind });
    return subscription;
  }

  start(subscription: Subscription): void {
    void this.catchUp(subscription);
  }

  unsubscribe(subscription: Subscription): void {
    if (subscription.closed) return;
    subscription.closed = true;
    this.metrics.subscriptions.dec({ kind: parseTopic(subscription.topic).kind });
    const feed = this.feeds.get(subscription.topic);
    if (!feed) return;
    feed.subscribers.delete(subscription);
    if (feed.subscribers.size === 0) {
      this.feeds.delete(subscription.topic);
      this.metrics.feeds.set(this.feeds.size);
    }
  }

  private async feed(topic: Topic): Promise<Feed> {
    const existing = this.feeds.get(topic);
    if (existing) return existing;
    let opening = this.opening.get(topic);
    if (!opening) {
      opening = (async () => {
        // Live reading starts after what the stream holds now; subscribers replay the rest.
        const feed: Feed = { topic, cursor: await this.streams.lastSeq(topic), subscribers: new Set() };
        this.feeds.set(topic, feed);
        this.metrics.feeds.set(this.feeds.size);
        this.interruptRead();
        return feed;
      })().finally(() => this.opening.delete(topic));
      this.opening.set(topic, opening);
    }
    return opening;
  }

  // The blocking read must start over with the new topic in it.
  private interruptRead() {
    if (this.wake) {
      this.wake();
      return;
    }
    if (this.readerId !== undefined) {
      this.redis.client('UNBLOCK', this.readerId).catch(() => undefined);
    }
  }

  private async read(reader: Redis) {
    while (!this.stopped) {
      if (this.feeds.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const cursors = new Map([...this.feeds].map(([topic, feed]) => [topic, feed.cursor]));
      let found: Map<Topic, TopicEntry[]>;
      try {
        found = await this.streams.waitMany(reader, cursors, this.config.STREAM_BLOCK_MS);
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(`stream read failed: ${error instanceof Error ? error.message : String(error)}`);
        await sleep(200);
        continue;
      }
      for (const [topic, entries] of found) {
        const feed = this.feeds.get(topic);
        if (!feed) continue;
        const fresh = entries.filter((entry) => entry.seq > feed.cursor);
        if (fresh.length === 0) continue;
        feed.cursor = fresh.at(-1)!.seq;
        // What one read brought goes out as one message (or a few, past MAX_BATCH), the same
        // for every subscriber that is live and had everything before it.
        const inStep: Subscription[] = [];
        for (const subscription of [...feed.subscribers]) {
          if (!subscription.closed && !subscription.catchingUp && subscription.last === fresh[0]!.seq - 1)
            inStep.push(subscription);
          else this.dispatch(subscription, fresh);
        }
        if (inStep.length > 0) this.send(inStep, fresh, 'live');
      }
    }
  }

  // One subscriber, not in step with the others: catching up, or past a gap.
  private dispatch(subscription: Subscription, entries: TopicEntry[]) {
    if (subscription.closed) return;
    const after =
      entries[0]!.seq > subscription.last ? entries : entries.filter((e) => e.seq > subscription.last);
    if (after.length === 0) return;
    if (subscription.catchingUp) {
      subscription.held.push(...after);
      // Held entries are shared references and a replay pages fast; bounded all the same.
      if (subscription.held.length > this.config.WS_MAX_QUEUED_MESSAGES * 10)
        this.resync(subscription, 'slow-consumer');
      return;
    }
    const run = consecutive(after, subscription.last);
    if (run > 0 && !this.send([subscription], run === after.length ? after : after.slice(0, run), 'live'))
      return;
    if (run < after.length) {
      // A gap (the reader fell behind the stream's trimming): fill it from history.
      subscription.live = false;
      subscription.held.push(...after.slice(run));
      void this.catchUp(subscription);
    }
  }

  // Sends consecutive entries (the first follows each subscription's `last`) in messages of
  // MAX_BATCH at most; a subscriber that is full is told to resync instead. False when none
  // is left.
  private send(subscriptions: Subscription[], entries: TopicEntry[], source: 'replay' | 'live'): boolean {
    let open = subscriptions;
    for (let start = 0; start < entries.length && open.length > 0; start += MAX_BATCH) {
      const events = entries.length <= MAX_BATCH ? entries : entries.slice(start, start + MAX_BATCH);
      const sending: Subscription[] = [];
      for (const subscription of open) {
        if (subscription.closed) continue;
        if (subscription.sink.full()) this.resync(subscription, 'slow-consumer');
        else sending.push(subscription);
      }
      open = sending;
      if (sending.length === 0) break;
      this.fanout(
        sending.map((subscription) => subscription.sink),
        { topic: sending[0]!.topic, events },
      );
      const last = events.at(-1)!.seq;
      for (const subscription of sending) subscription.last = last;
      this.metrics.eventsOut.inc({ source }, events.length * sending.length);
      if (source === 'live') {
        // Per message, from the write of its oldest event.
        const seconds = Math.max(0, Date.now() - Date.parse(events[0]!.at)) / 1000;
        for (let index = 0; index < sending.length; index++) this.metrics.latency.observe(seconds);
      }
    }
    return open.length > 0;
  }

  // The backlog, then what was held meanwhile, until nothing is missing: then live.
  private async catchUp(subscription: Subscription) {
    if (subscription.closed) return;
    subscription.markReplaying(true);
    try {
      for (;;) {
        const read = await this.history.after(subscription.topic, subscription.last, REPLAY_PAGE);
        if (subscription.closed) return;
        if (read.kind === 'gone') {
          this.resync(subscription, 'history-gone', { afterSeq: read.firstSeq - 1, reload: true });
          return;
        }
        const page = read.entries.filter((entry) => entry.seq > subscription.last);
        const run = consecutive(page, subscription.last);
        if (run > 0 && !this.send([subscription], page.slice(0, run), 'replay')) return;
        // A page from Postgres ends where the stream begins: read until nothing more is there
        // (a page past a gap means the stream was trimmed meanwhile: the next read has it).
        if (page.length > 0) continue;
        // What is stored is sent: now what was held, as long as it follows on.
        const held = subscription.held
          .filter((entry) => entry.seq > subscription.last)
          .sort((a, b) => a.seq - b.seq);
        subscription.held = [];
        const ready = consecutive(held, subscription.last);
        if (ready > 0 && !this.send([subscription], held.slice(0, ready), 'live')) return;
        if (ready === held.length) {
          subscription.live = true;
          return;
        }
        // Held entries start past a gap: the history has the missing ones by now.
        subscription.held = held.slice(ready);
      }
    } catch (error) {
      if (subscription.closed) return;
      this.logger.error({ err: error, topic: subscription.topic }, 'replay failed');
      this.resync(subscription, 'replay-failed');
    } finally {
      subscription.markReplaying(false);
    }
  }

  private resync(
    subscription: Subscription,
    reason: string,
    options: { afterSeq?: number; reload?: boolean } = {},
  ) {
    if (subscription.closed) return;
    const afterSeq = options.afterSeq ?? subscription.last;
    this.unsubscribe(subscription);
    this.metrics.resyncs.inc({ reason });
    subscription.sink.resync({
      topic: subscription.topic,
      afterSeq,
      reason,
      ...(options.reload ? { reload: true } : {}),
    });
  }
}
