import path from 'node:path';
import { Client } from 'pg';
import { processesWorkingIn } from '@hangar/agents';
import type { Problem } from '@hangar/contracts';
import { BareClaude, ServiceStack } from '@hangar/testing';
import { getTask, request, runTask, type SpanRow } from './support';

// The real Claude Code CLI's own OpenTelemetry (docs/observability.md#the-agents-telemetry),
// sent over OTLP/HTTP to the metrics service — as protobuf and as JSON — and stored against the
// task its sender names: its spans in the trace it was given (TRACEPARENT), its events, its
// metric points. A body that is not OTLP is refused with why, and stores nothing.
describe('metrics service: the agent CLI’s OTLP', () => {
  let stack: ServiceStack;
  let db: Client;
  let bare: BareClaude;
  let otlpUrl: string;

  beforeAll(async () => {
    stack = await ServiceStack.create('e2e-telemetry');
    await stack.start(['metrics']);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
    bare = await BareClaude.start('telemetry');
    otlpUrl = `http://127.0.0.1:${stack.ports.get('metrics')}`;
  });

  afterAll(async () => {
    await db?.end();
    await stack?.dispose();
    await bare?.close();
  });

  // The CLI run as a runner would run it for `taskId` (bare here: its own scripted model), its
  // telemetry sent straight to the metrics service (the runner's relay adds the task header; here
  // the CLI's own OTLP headers do).
  async function runCli(taskId: string, protocol: 'http/json' | 'http/protobuf', traceparent: string) {
    await bare.run({
      prompt: 'Write hello.txt please',
      scenario: 'write-file',
      env: {
        CLAUDE_CODE_ENABLE_TELEMETRY: '1',
        CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
        OTEL_EXPORTER_OTLP_HEADERS: `x-hangar-task-id=${taskId}`,
        TRACEPARENT: traceparent,
      },
    });
  }

  async function spansOf(taskId: string): Promise<SpanRow[]> {
    return (
      await db.query<SpanRow>('SELECT * FROM telemetry_spans WHERE task_id = $1 ORDER BY start_at', [taskId])
    ).rows;
  }

  // The CLI exports as it exits: what it sent is stored once its requests were answered.
  async function until(holds: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await holds())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it.each([
    ['http/protobuf', 'task-proto', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['http/json', 'task-json', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
  ] as const)(
    'should store the spans, events and points the CLI sends as %s, in the trace it was given, against its task',
    async (protocol, taskId, traceparent) => {
      await runCli(taskId, protocol, traceparent);
      await until(
        async () => (await spansOf(taskId)).some((span) => span.name === 'claude_code.tool'),
        'its spans',
      );
      const spans = await spansOf(taskId);
      const [, traceId, parentId] = traceparent.split('-');
      // One trace: every span in the trace it was given, the outermost under the span it was given.
      expect(new Set(spans.map((span) => span.trace_id))).toEqual(new Set([traceId]));
      expect(spans.some((span) => span.parent_span_id === parentId)).toBe(true);
      expect(spans.map((span) => span.name)).toEqual(
        expect.arrayContaining(['claude_code.interaction', 'claude_code.llm_request', 'claude_code.tool']),
      );
      for (const span of spans) expect(span.service).toBe('claude-code');
      const tool = spans.find((span) => span.name === 'claude_code.tool');
      expect(tool?.attributes).toMatchObject({ tool_name: 'Write' });

      await until(
        async () =>
          (
            await db.query('SELECT 1 FROM telemetry_events WHERE task_id = $1 AND name = $2', [
              taskId,
              'tool_result',
            ])
          ).rowCount! > 0,
        'its tool_result event',
      );
      const { rows: points } = await db.query<{ name: string }>(
        'SELECT DISTINCT name FROM telemetry_points WHERE task_id = $1',
        [taskId],
      );
      expect(points.map((point) => point.name)).toContain('claude_code.session.count');
    },
  );

  it('should read the same from protobuf as from JSON', async () => {
    const names = async (taskId: string) =>
      (
        await db.query<{ name: string }>(
          'SELECT DISTINCT name FROM telemetry_spans WHERE task_id = $1 ORDER BY 1',
          [taskId],
        )
      ).rows.map((row) => row.name);
    expect(await names('task-proto')).toEqual(await names('task-json'));
    const events = async (taskId: string) =>
      (
        await db.query<{ name: string }>(
          'SELECT DISTINCT name FROM telemetry_events WHERE task_id = $1 ORDER BY 1',
          [taskId],
        )
      ).rows.map((row) => row.name);
    expect(await events('task-proto')).toEqual(await events('task-json'));
  });

  it.each([
    ['JSON that is not JSON', 'application/json', '{"resourceSpans": [', 400, /not JSON/],
    [
      'a span whose trace id is not hex',
      'application/json',
      JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: 'zz',
                    spanId: '00f067aa0ba902b7',
                    name: 'x',
                    startTimeUnixNano: '1',
                    endTimeUnixNano: '2',
                  },
                ],
              },
            ],
          },
        ],
      }),
      400,
      /resourceSpans\.0\.scopeSpans\.0\.spans\.0\.traceId: must be 16 bytes in hex/,
    ],
    [
      'protobuf that is not protobuf',
      'application/x-protobuf',
      '\u00ff\u00ff\u00ff\u00ff',
      400,
      /in protobuf/,
    ],
    ['a form', 'application/x-www-form-urlencoded', 'a=b', 415, /content-type must be/],
  ])('should refuse %s, saying why, and store nothing', async (_case, type, body, status, detail) => {
    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry_spans')).rows[0]
      ?.n;
    const response = await fetch(`${otlpUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': type, 'x-hangar-task-id': 'task-bad' },
      body: Buffer.from(body, 'latin1'),
    });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as Problem).detail).toMatch(detail);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry_spans')).rows[0]?.n).toBe(
      before,
    );
  });
});

// A task on the whole stack, its CLI in the runner's sandbox: the runner turns the CLI's
// telemetry on and relays it to the metrics service, filed under the task its credential is for.
describe("agent-runner: the agents' telemetry relayed from the sandbox", () => {
  let stack: ServiceStack;
  let db: Client;

  beforeAll(async () => {
    stack = await ServiceStack.create('e2e-telemetry-relay');
    await stack.start(undefined, { RUNNER_METRICS_URL: `http://127.0.0.1:${stack.ports.get('metrics')}` });
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.dispose();
  });

  it("should store a task's CLI spans and events under the task, named by its resource as Hangar's", async () => {
    const task = await runTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });
    expect(task.status).toBe('COMPLETED');
    const deadline = Date.now() + 30_000;
    let spans: SpanRow[] = [];
    while (!spans.some((span) => span.name === 'claude_code.tool')) {
      if (Date.now() > deadline) throw new Error(`no claude_code.tool span for ${task.id} within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      spans = (await db.query<SpanRow>('SELECT * FROM telemetry_spans WHERE task_id = $1', [task.id])).rows;
    }
    expect(new Set(spans.map((span) => span.trace_id)).size).toBeGreaterThanOrEqual(1);
    for (const span of spans)
      expect(span.attributes).toMatchObject({
        'service.name': 'claude-code',
        'hangar.task_id': task.id,
        'hangar.project': 'default',
        'hangar.profile': 'default',
      });
    const { rows: events } = await db.query<{ name: string; attributes: Record<string, unknown> }>(
      'SELECT name, attributes FROM telemetry_events WHERE task_id = $1',
      [task.id],
    );
    expect(events.map((event) => event.name)).toContain('tool_result');
    // Prompts stay out of it unless a profile asks (OTEL_LOG_USER_PROMPTS is not set).
    const prompt = events.find((event) => event.name === 'user_prompt');
    expect(JSON.stringify(prompt?.attributes ?? {})).not.toContain('Write hello.txt please');
  });

  // The CLI exits 30–40 ms after its result; with its collector not answering (the metrics
  // service stopped), ~2 s. A task whose outcome is whole at the result is told finished then.
  describe('with the metrics service stopped, the CLI lingering as it exports', () => {
    const metricsPid = () => stack.processes.get('metrics')?.child.pid ?? 0;
    const stored = async (taskId: string) =>
      (
        await db.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM telemetry_spans WHERE task_id = $1)
                + (SELECT count(*) FROM telemetry_events WHERE task_id = $1)
                + (SELECT count(*) FROM telemetry_points WHERE task_id = $1) AS n`,
          [taskId],
        )
      ).rows[0]?.n ?? 0;
    const until = async (holds: () => Promise<boolean> | boolean, what: string) => {
      const deadline = Date.now() + 30_000;
      while (!(await holds())) {
        if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    afterEach(() => process.kill(metricsPid(), 'SIGCONT'));

    it('should tell a task that changed nothing finished at its result, its CLI still exiting, and lose none of what the CLI sends then', async () => {
      process.kill(metricsPid(), 'SIGSTOP');
      const task = await runTask(stack, { prompt: 'Say hello', scenario: 'reply' });
      const workspace = path.join(stack.workspaceRoot, task.id);

      expect(task.status).toBe('COMPLETED');
      expect(task.result).toBeTruthy();
      // Its sandbox and CLI are still there, the task already told finished, its diff stored (empty).
      expect(processesWorkingIn(workspace).length).toBeGreaterThan(0);
      const diff = await request(stack, 'GET', `/api/v1/tasks/${task.id}/diff`);
      expect(diff.status).toBe(200);
      expect(diff.body).toMatchObject({ files: [], linesAdded: 0 });

      process.kill(metricsPid(), 'SIGCONT');
      await until(() => processesWorkingIn(workspace).length === 0, 'the CLI gone');
      // What it sent as it exited, after its task had ended, reached the metrics service.
      await until(async () => (await stored(task.id)) > 0, `telemetry of ${task.id}`);
      // Its credential is revoked once its CLI is gone; the task's record is as it was told.
      await until(
        async () =>
          (
            await db.query<{ revoked: boolean }>(
              'SELECT bool_and(revoked_at IS NOT NULL) AS revoked FROM attempt_tokens WHERE task_id = $1',
              [task.id],
            )
          ).rows[0]?.revoked === true,
        'its credential revoked',
      );
      expect(await getTask(stack, task.id)).toMatchObject({ status: 'COMPLETED', result: task.result });
    });

    it('should tell a task that changed files finished only once its CLI has exited and its diff is taken', async () => {
      process.kill(metricsPid(), 'SIGSTOP');
      const task = await runTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });

      expect(task.status).toBe('COMPLETED');
      expect(processesWorkingIn(path.join(stack.workspaceRoot, task.id))).toEqual([]);
      const diff = await request(stack, 'GET', `/api/v1/tasks/${task.id}/diff`);
      expect((diff.body as { files: { path: string }[] }).files.map((file) => file.path)).toEqual([
        'hello.txt',
      ]);
    });
  });

  it('should include the prompt in the CLI telemetry only for a profile that opts in (telemetryContent)', async () => {
    const created = await request(stack, 'POST', '/api/v1/profiles', {
      name: 'content-logged',
      telemetryContent: true,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ telemetryContent: true });
    const prompt = 'Write hello.txt please, with the prompt logged';
    const task = await runTask(stack, { prompt, profile: 'content-logged', scenario: 'write-file' });
    expect(task.status).toBe('COMPLETED');
    const deadline = Date.now() + 30_000;
    let logged: { attributes: Record<string, unknown> } | undefined;
    while (!logged) {
      if (Date.now() > deadline) throw new Error(`no user_prompt event for ${task.id} within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      logged = (
        await db.query<{ attributes: Record<string, unknown> }>(
          "SELECT attributes FROM telemetry_events WHERE task_id = $1 AND name = 'user_prompt'",
          [task.id],
        )
      ).rows[0];
    }
    expect(JSON.stringify(logged.attributes)).toContain(prompt);
  });

  it("should store a Gemini task's CLI telemetry under the task too, without its prompt", async () => {
    expect(
      (
        await request(stack, 'POST', '/api/v1/profiles', {
          name: 'gemini',
          provider: 'gemini',
          permissionMode: 'bypassPermissions',
        })
      ).status,
    ).toBe(201);
    const prompt = 'run a command for the telemetry test';
    const task = await runTask(stack, { prompt, profile: 'gemini', scenario: 'gemini-shell' });
    expect(task.status).toBe('COMPLETED');
    const stored = async () => {
      const { rows } = await db.query<{ kind: string; service: string; name: string; attributes: unknown }>(
        `SELECT 'event' AS kind, service, name, attributes FROM telemetry_events WHERE task_id = $1
         UNION ALL SELECT 'point', service, name, attributes FROM telemetry_points WHERE task_id = $1
         UNION ALL SELECT 'span', service, name, attributes FROM telemetry_spans WHERE task_id = $1`,
        [task.id],
      );
      return rows;
    };
    const deadline = Date.now() + 30_000;
    let rows = await stored();
    // Gemini CLI exports its logs and metrics as it shuts down.
    while (!rows.some((row) => row.kind === 'event') || !rows.some((row) => row.kind === 'point')) {
      if (Date.now() > deadline)
        throw new Error(
          `no Gemini telemetry for ${task.id} within 30 s: ${JSON.stringify(rows.slice(0, 5))}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await stored();
    }
    expect(new Set(rows.map((row) => row.service))).toEqual(new Set(['gemini-cli']));
    expect(rows.map((row) => row.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^gemini_cli\./)]),
    );
    expect(JSON.stringify(rows)).not.toContain(prompt);
  });

  it("should store a Codex task's CLI telemetry under the task too, without its prompt", async () => {
    expect(
      (await request(stack, 'POST', '/api/v1/profiles', { name: 'codex', provider: 'codex' })).status,
    ).toBe(201);
    const prompt = 'run a command for the codex telemetry test';
    const task = await runTask(stack, { prompt, profile: 'codex', scenario: 'codex-shell' });
    expect(task.status).toBe('COMPLETED');
    const stored = async () =>
      (
        await db.query<{
          kind: string;
          service: string;
          name: string;
          trace_id: string | null;
          attributes: unknown;
        }>(
          `SELECT 'event' AS kind, service, name, NULL AS trace_id, attributes FROM telemetry_events WHERE task_id = $1
           UNION ALL SELECT 'span', service, name, trace_id, attributes FROM telemetry_spans WHERE task_id = $1`,
          [task.id],
        )
      ).rows;
    const deadline = Date.now() + 30_000;
    let rows = await stored();
    // Codex exports its events and spans as it shuts down.
    while (!rows.some((row) => row.kind === 'event') || !rows.some((row) => row.kind === 'span')) {
      if (Date.now() > deadline)
        throw new Error(`no Codex telemetry for ${task.id} within 30 s: ${JSON.stringify(rows.slice(0, 5))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await stored();
    }
    expect(rows.map((row) => row.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^codex\./)]));
    // Named by its resource as Hangar's task (Codex 0.169's `exec` starts a trace of its own:
    // TRACEPARENT is set, not continued), and its prompt stays out.
    const exec = rows.find((row) => row.kind === 'span' && row.name === 'codex.exec');
    expect(exec?.attributes).toMatchObject({
      'hangar.task_id': task.id,
      'hangar.project': 'default',
      'hangar.profile': 'codex',
    });
    expect(JSON.stringify(rows)).not.toContain(prompt);
  });

  it('should refuse telemetry without an attempt credential, or with one that is not an attempt’s', async () => {
    const relay = `http://127.0.0.1:${await runnerTaskApiPort(stack)}/otlp/v1/traces`;
    const body = JSON.stringify({ resourceSpans: [] });
    const headers = { 'content-type': 'application/json' };
    expect((await fetch(relay, { method: 'POST', headers, body })).status).toBe(401);
    expect(
      (
        await fetch(relay, {
          method: 'POST',
          headers: { ...headers, authorization: 'Bearer hgr_att_forged' },
          body,
        })
      ).status,
    ).toBe(401);
  });
});

// The port the runner's agents' endpoints listen on (RUNNER_TASK_API_PORT=0: chosen at start), as
// its log line says.
async function runnerTaskApiPort(stack: ServiceStack): Promise<number> {
  const line = await stack.processes
    .get('agent-runner')!
    .waitForLine((text) => text.includes("agents' endpoints on"));
  const port = /:(\d+)(?:\s|"|$)/.exec(line.slice(line.indexOf("agents' endpoints on")))?.[1];
  if (!port) throw new Error(`no port in: ${line}`);
  return Number(port);
}
