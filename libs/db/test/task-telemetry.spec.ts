import { createPrismaClient, migrate, TaskTelemetry, type PrismaClient, type TelemetrySpan } from '../src';
import { dropDatabases, freshDatabaseUrl, withClient } from './fresh-database';

// The agents' own telemetry as the metrics service stores it (docs/observability.md): each span
// once by its ids, each event or point once by what it says (an exporter's retry adds nothing),
// under the task it was sent for, and gone after retention.
describe(TaskTelemetry.name, () => {
  const { url, name } = freshDatabaseUrl('telemetry');
  let prisma: PrismaClient;
  let telemetry: TaskTelemetry;
  const resource = { 'service.name': 'claude-code' };
  const span = (spanId: string, parentSpanId: string | null, startNs: bigint): TelemetrySpan => ({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId,
    parentSpanId,
    name: parentSpanId ? 'claude_code.tool' : 'claude_code.interaction',
    kind: 1,
    startNs,
    endNs: startNs + 1_500_000n,
    status: { code: 0, message: null },
    attributes: { tool_name: 'Write' },
    events: [],
    resource,
  });
  const batch = {
    spans: [
      span('00f067aa0ba902b7', null, 1_796_000_000_000_000_001n),
      span('00f067aa0ba902b8', '00f067aa0ba902b7', 1_796_000_000_100_000_000n),
    ],
    logs: [
      {
        name: 'tool_result',
        timeNs: 1_796_000_000_200_000_000n,
        traceId: null,
        spanId: null,
        attributes: { tool_name: 'Write' },
        resource,
      },
    ],
    metrics: [
      {
        name: 'claude_code.cost.usage',
        timeNs: 1_796_000_000_300_000_000n,
        value: 0.25,
        attributes: {},
        resource,
      },
      {
        name: 'claude_code.cost.usage',
        timeNs: 1_796_000_000_400_000_000n,
        value: 0.5,
        attributes: {},
        resource,
      },
    ],
  };

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    telemetry = new TaskTelemetry(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it('should store a batch once, sent twice, under its task, to the microsecond', async () => {
    expect(await telemetry.store('task-1', batch)).toEqual({ spans: 2, events: 1, points: 2 });
    expect(await telemetry.store('task-1', batch)).toEqual({ spans: 0, events: 0, points: 0 });
    const spans = await telemetry.spansOf('task-1');
    expect(spans.map((stored) => [stored.name, stored.parentSpanId, stored.service])).toEqual([
      ['claude_code.interaction', null, 'claude-code'],
      ['claude_code.tool', '00f067aa0ba902b7', 'claude-code'],
    ]);
    expect(spans[1]!.attributes).toMatchObject({ tool_name: 'Write', 'service.name': 'claude-code' });
    // Stored to the microsecond: the 1.5 ms the span lasted.
    const [lasted] = await withClient(
      url,
      async (client) =>
        (
          await client.query<{ us: number }>(
            "SELECT (extract(epoch FROM end_at - start_at) * 1000000)::int AS us FROM telemetry_spans WHERE span_id = '00f067aa0ba902b8'",
          )
        ).rows,
    );
    expect(lasted?.us).toBe(1500);
    expect(await telemetry.trace('4bf92f3577b34da6a3ce929d0e0e4736')).toHaveLength(2);
    expect((await telemetry.eventsOf('task-1')).map((event) => event.name)).toEqual(['tool_result']);
    expect(await telemetry.pointsOf('task-1')).toEqual({ 'claude_code.cost.usage': 0.75 });
    expect(await telemetry.spansOf('task-2')).toEqual([]);
  });

  it('should keep what was received after the cutoff, and drop the rest', async () => {
    await telemetry.dropBefore(new Date(Date.now() - 60_000));
    expect(await telemetry.spansOf('task-1')).toHaveLength(2);
    await telemetry.dropBefore(new Date(Date.now() + 60_000));
    expect(await telemetry.spansOf('task-1')).toEqual([]);
    expect(await telemetry.eventsOf('task-1')).toEqual([]);
    expect(await telemetry.pointsOf('task-1')).toEqual({});
  });
});
