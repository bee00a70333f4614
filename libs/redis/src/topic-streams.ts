import type { Redis } from 'ioredis';
import { parseTopic, type Topic } from '@hangar/contracts';
import { APPEND_SCRIPT, seqOf, type TaskEventStream } from './task-event-stream';

export interface TopicEntry {
  seq: number;
  at: string;
  type: string;
  data: unknown;
}

// APPEND_SCRIPT's numbering, when ARGV[1] (a version) is above the one in KEYS[2] (ARGV[3]
// `newer`), or not below it (`current`).
const APPEND_VERSION_SCRIPT = `
local told = tonumber(redis.call('GET', KEYS[2]) or '0')
local version = tonumber(ARGV[1])
if version < told or (version == told and ARGV[3] == 'newer') then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local seq = 1
if #last > 0 then seq = tonumber(string.match(last[1][1], '^(%d+)')) + 1 end
for i = 4, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', ARGV[i])
  seq = seq + 1
end
return 1
`;

// The sequenced streams realtime clients subscribe to. A task topic is the task's own event
// stream; conversation, project and workflow-run topics have streams of their own (status
// changes, messages), numbered the same way: the entry id is the sequence number.
export class TopicStreams {
  private readonly maxLen: number;

  constructor(
    private readonly redis: Redis,
    private readonly tasks: TaskEventStream,
    private readonly options: { prefix: string; maxLen?: number },
  ) {
    this.maxLen = options.maxLen ?? 10_000;
  }

  key(topic: Topic): string {
    const { kind, id } = parseTopic(topic);
    return kind === 'task' ? this.tasks.key(id) : `${this.options.prefix}:${kind}:${id}:events`;
  }

  // For conversation, project and workflow-run topics (task events go through TaskEventLog).
  async append(topic: Topic, entries: { type: string; data: unknown }[]): Promise<void> {
    if (entries.length === 0) return;
    const at = new Date().toISOString();
    await this.redis.eval(
      APPEND_SCRIPT,
      1,
      this.key(topic),
      '1',
      String(this.maxLen),
      ...entries.map((entry) => JSON.stringify({ type: entry.type, data: entry.data, at })),
    );
  }

  // Appends what version `version` of something changed — `newer`: unless that version or a
  // later one was told already; `current` (the state as it is at that version): unless a later
  // one was. Versions are whole numbers counted up by the writer (a workflow run's decisions);
  // the last one told is kept beside the stream. Answers whether it appended.
  async appendVersion(
    topic: Topic,
    version: number,
    mode: 'newer' | 'current',
    entries: { type: string; data: unknown }[],
  ): Promise<boolean> {
    const at = new Date().toISOString();
    const appended = await this.redis.eval(
      APPEND_VERSION_SCRIPT,
      2,
      this.key(topic),
      this.toldKey(topic),
      String(version),
      String(this.maxLen),
      mode,
      ...entries.map((entry) => JSON.stringify({ type: entry.type, data: entry.data, at })),
    );
    return appended === 1;
  }

  // A topic with an end (a finished workflow run) keeps its stream this long for late
  // subscribers, then has none: what it told is read over REST.
  async expire(topic: Topic, seconds: number): Promise<void> {
    await this.redis.multi().expire(this.key(topic), seconds).expire(this.toldKey(topic), seconds).exec();
  }

  private toldKey(topic: Topic): string {
    return `${this.key(topic)}:told`;
  }

  async readAfter(topic: Topic, afterSeq: number, count = 1000): Promise<TopicEntry[]> {
    const entries = await this.redis.xrange(this.key(topic), `(${afterSeq}-0`, '+', 'COUNT', count);
    return entries.map(([id, fields]) => decode(id, fields));
  }

  async firstSeq(topic: Topic): Promise<number | null> {
    const entries = await this.redis.xrange(this.key(topic), '-', '+', 'COUNT', 1);
    return entries[0] ? seqOf(entries[0][0]) : null;
  }

  async lastSeq(topic: Topic): Promise<number> {
    const entries = await this.redis.xrevrange(this.key(topic), '+', '-', 'COUNT', 1);
    return entries[0] ? seqOf(entries[0][0]) : 0;
  }

  // One blocking read over many topics at once (a connection of its own): new entries after
  // each topic's cursor, by topic.
  async waitMany(
    connection: Redis,
    cursors: Map<Topic, number>,
    blockMs: number,
    count = 500,
  ): Promise<Map<Topic, TopicEntry[]>> {
    const topics = [...cursors.keys()];
    const byKey = new Map(topics.map((topic) => [this.key(topic), topic]));
    const reply = await connection.xread(
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...topics.map((topic) => this.key(topic)),
      ...topics.map((topic) => `${cursors.get(topic) ?? 0}-0`),
    );
    const found = new Map<Topic, TopicEntry[]>();
    for (const [key, entries] of reply ?? []) {
      const topic = byKey.get(key);
      if (topic)
        found.set(
          topic,
          entries.map(([id, fields]) => decode(id, fields)),
        );
    }
    return found;
  }
}

function decode(id: string, fields: string[]): TopicEntry {
  const index = fields.indexOf('e');
  const stored = JSON.parse(fields[index + 1] ?? '{}') as Omit<TopicEntry, 'seq'>;
  return { seq: seqOf(id), at: stored.at, type: stored.type, data: stored.data };
}
