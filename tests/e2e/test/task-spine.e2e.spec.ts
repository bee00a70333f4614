import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentEventOf, Problem, Task, TaskEvent } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask, request } from './support';

describe('a task end to end (REST → orchestrator → agent-runner → Claude Code CLI → Socket.IO → Postgres)', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('spine');
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('should run the write-file scenario with the real CLI and deliver every event once, in order', async () => {
    const task = await createTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });
    expect(task.status).toBe('QUEUED');
    const follower = follow(stack, task.id, 0);
    expect(await follower.ack).toEqual({ ok: true, topic: `task:${task.id}`, afterSeq: 0 });
    const events = await follower.finished;
    follower.close();

    // Every event once, numbered 1..n without gaps.
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    const types = events.map((event) => event.type);
    // RUNNING (its claim) before anything of its agent's.
    expect(events[0]).toMatchObject({ type: 'task.status', data: { status: 'RUNNING' } });
    expect(types).toEqual(
      expect.arrayContaining(['system.init', 'tool.use', 'tool.result', 'assistant.text', 'result']),
    );
    const toolUse = events.find(
      (event): event is TaskEvent & AgentEventOf<'tool.use'> => event.type === 'tool.use',
    );
    expect(toolUse?.data.name).toBe('Write');
    expect(events.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'COMPLETED' } });

    // The real CLI wrote the file in the task's own workspace.
    const done = await getTask(stack, task.id);
    expect(done.workspace).toBe(path.join(stack.workspaceRoot, task.id));
    const written = path.join(done.workspace!, 'hello.txt');
    expect(existsSync(written)).toBe(true);
    expect(readFileSync(written, 'utf8')).toBe('hello from hangar\n');

    // The stored result is what the CLI reported.
    const result = events.find(
      (event): event is TaskEvent & AgentEventOf<'result'> => event.type === 'result',
    )!;
    const init = events.find(
      (event): event is TaskEvent & AgentEventOf<'system.init'> => event.type === 'system.init',
    )!;
    expect(done).toMatchObject({
      status: 'COMPLETED',
      result: result.data.result,
      costUsd: result.data.costUsd,
      usage: result.data.usage,
      numTurns: result.data.numTurns,
      durationMs: result.data.durationMs,
      agentSessionId: init.data.sessionId,
      exitCode: 0,
      error: null,
    });
    expect(done.costUsd).toBeGreaterThan(0);
    expect(done.usage?.outputTokens).toBeGreaterThan(0);
    expect(done.agentSessionId).toMatch(/^[0-9a-f-]{36}$/);

    // Postgres holds the same sequence.
    const history = await request(stack, 'GET', `/api/v1/tasks/${task.id}/events`);
    expect(history.status).toBe(200);
    expect((history.body as { items: TaskEvent[] }).items).toEqual(events);
  });

  it('should replay from a sequence number to a late subscriber', async () => {
    const task = await createTask(stack, { prompt: 'run a command', scenario: 'bash' });
    const first = follow(stack, task.id);
    const all = await first.finished;
    first.close();
    expect(existsSync(path.join(stack.workspaceRoot, task.id, 'bash-output.txt'))).toBe(true);

    const late = follow(stack, task.id, 2);
    const rest = await late.finished;
    late.close();
    expect(rest).toEqual(all.slice(2));
  });

  it('should mark a task FAILED with the reason when the CLI exits non-zero', async () => {
    const task = await createTask(stack, { prompt: 'this will fail', scenario: 'fail' });
    const follower = follow(stack, task.id);
    const events = await follower.finished;
    follower.close();
    const final = events.at(-1) as TaskEvent & AgentEventOf<'task.status'>;
    expect(final.data.status).toBe('FAILED');
    const failed = await getTask(stack, task.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/^(exit-code|agent-error): /);
    expect(final.data.reason).toBe(failed.error);
  });

  it("should run a task's check in its workspace once the agent completed, and show how it ended", async () => {
    const task = await createTask(stack, {
      prompt: 'Say hello',
      scenario: 'reply',
      check: { command: 'ls -A; echo "no tests here" >&2; exit 4' },
    });
    const follower = follow(stack, task.id);
    await follower.finished;
    follower.close();
    expect(await getTask(stack, task.id)).toMatchObject({
      status: 'COMPLETED',
      check: { command: 'ls -A; echo "no tests here" >&2; exit 4', timeoutSeconds: 300 },
      checkResult: { exitCode: 4, passed: false, output: expect.stringMatching(/no tests here\n$/) },
    });
    // A retry runs the same check.
    const retried = (await request(stack, 'POST', `/api/v1/tasks/${task.id}/retry`)).body as Task;
    expect(retried).toMatchObject({
      retryOf: task.id,
      check: { command: 'ls -A; echo "no tests here" >&2; exit 4' },
    });
    const again = follow(stack, retried.id);
    await again.finished;
    again.close();
    expect((await getTask(stack, retried.id)).checkResult).toMatchObject({ exitCode: 4, passed: false });
  });

  it('should record each line the CLI prints on stderr once', async () => {
    // Claude Code warns on stderr about a model it does not know, and still answers.
    await request(stack, 'POST', '/api/v1/profiles', { name: 'odd-model', model: 'no-such-model' });
    const task = await createTask(stack, { prompt: 'hello', profile: 'odd-model', scenario: 'reply' });
    const follower = follow(stack, task.id);
    const events = await follower.finished;
    follower.close();
    const warnings = events.filter(
      (event) => event.type === 'stderr' && event.data.line.includes('unrecognized_model'),
    );
    expect(warnings).toHaveLength(1);
  });

  it('should fail a task that outlives its timeout and stop its agent', async () => {
    const task = await createTask(stack, { prompt: 'too slow', scenario: 'slow', timeoutSeconds: 2 });
    const follower = follow(stack, task.id);
    const events = await follower.finished;
    follower.close();
    expect(events.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'FAILED' } });
    const failed = await getTask(stack, task.id);
    expect(failed.error).toBe('timeout: no result within 2s; the agent was stopped');
    expect(stack.processesIn(failed.workspace!)).toEqual([]);
  });

  it('should stop the process group within 5 s when a running task is cancelled', async () => {
    const task = await createTask(stack, { prompt: 'take your time', scenario: 'slow' });
    const follower = follow(stack, task.id);
    await follower.waitFor((event) => event.type === 'system.init');
    const workspace = path.join(stack.workspaceRoot, task.id);
    expect(stack.processesIn(workspace).length).toBeGreaterThan(0);

    const cancelledAt = Date.now();
    const response = await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    expect(response.status).toBe(202);
    const events = await follower.finished;
    follower.close();
    expect(events.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'CANCELLED' } });
    expect(stack.processesIn(workspace)).toEqual([]);
    expect(Date.now() - cancelledAt).toBeLessThan(5000);
    expect((await getTask(stack, task.id)).status).toBe('CANCELLED');

    const again = await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    expect(again.status).toBe(409);
    expect((again.body as Problem).detail).toMatch(/already CANCELLED/);
  });

  it("should count runs and queue depth on the services' /metrics", async () => {
    const runner = await (await fetch(`http://127.0.0.1:${stack.ports.get('agent-runner')}/metrics`)).text();
    expect(runner).toMatch(
      /^hangar_runner_tasks_finished_total\{status="COMPLETED",service="agent-runner"\} [1-9]/m,
    );
    expect(runner).toMatch(/^hangar_runner_events_total\{type="tool.use",service="agent-runner"\} [1-9]/m);
    const orchestrator = await (
      await fetch(`http://127.0.0.1:${stack.ports.get('orchestrator')}/metrics`)
    ).text();
    // By runner pool: the stack's one runner is in the default pool.
    expect(orchestrator).toMatch(/^hangar_queue_depth\{pool="default",service="orchestrator"\} 0$/m);
  });

  it('should cancel a queued task before it starts', async () => {
    await stack.stop('agent-runner');
    try {
      const task = await createTask(stack, { prompt: 'never runs', scenario: 'reply' });
      const response = await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`);
      expect(response.status).toBe(202);
      expect(response.body).toMatchObject({ id: task.id, status: 'CANCELLED' });
      const follower = follow(stack, task.id);
      const events = await follower.finished;
      follower.close();
      expect(events).toEqual([
        expect.objectContaining({
          seq: 1,
          type: 'task.status',
          data: { status: 'CANCELLED', reason: 'cancelled before it started' },
        }),
      ]);
    } finally {
      await stack.start(['agent-runner']);
    }
  });
});
