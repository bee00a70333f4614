import path from 'node:path';
import type { AgentEventOf, TaskEvent } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask, waitUntil } from './support';

describe('tasks survive lost runners and a stopped orchestrator', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('resilience', {
      HEARTBEAT_INTERVAL_MS: '300',
      RUNNER_HEARTBEAT_TIMEOUT_MS: '2000',
      RECONCILE_INTERVAL_MS: '300',
      TASK_MAX_ATTEMPTS: '2',
    });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('should retry a task whose runner was killed, then fail it with the reason when attempts run out', async () => {
    const task = await createTask(stack, { prompt: 'outlive me', scenario: 'slow' });
    const follower = follow(stack, task.id);
    const agentStarted = (attempt: number) =>
      follower.waitFor(
        (event) =>
          event.type === 'system.init' &&
          follower.events.filter((e) => e.type === 'system.init').length === attempt,
      );
    const killRunner = async () => {
      await stack.stop('agent-runner', 'SIGKILL');
      await stack.start(['agent-runner']);
    };

    await agentStarted(1);
    await killRunner();
    await agentStarted(2);
    const retried = await getTask(stack, task.id);
    expect(retried).toMatchObject({
      status: 'RUNNING',
      attempts: 2,
      workspace: path.join(stack.workspaceRoot, task.id),
    });

    await killRunner();
    // A sandboxed CLI does not outlive its runner (bubblewrap's --die-with-parent): nothing is
    // left working in the workspace for the next attempt to find.
    await waitUntil(
      () => stack.agentsIn(retried.workspace!).length === 0,
      5_000,
      'no CLI left in the workspace',
    );

    // Subscribers see it all, in one gapless sequence: requeued, running again, failed.
    const events = await follower.finished;
    follower.close();
    const failed = await getTask(stack, task.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/^runner-lost: runner \S+ sent no heartbeat for 2s \(attempt 2 of 2\)$/);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    const statuses = events
      .filter((event): event is TaskEvent & AgentEventOf<'task.status'> => event.type === 'task.status')
      .map((event) => event.data.status);
    expect(statuses).toEqual(['RUNNING', 'QUEUED', 'RUNNING', 'FAILED']);
  });

  it('should run a task accepted while the orchestrator was down once it is back', async () => {
    await stack.stop('orchestrator');
    const task = await createTask(stack, { prompt: 'queued while down', scenario: 'reply' });
    expect((await getTask(stack, task.id)).status).toBe('QUEUED');

    await stack.start(['orchestrator']);
    const follower = follow(stack, task.id);
    const events = await follower.finished;
    follower.close();
    expect(events.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'COMPLETED' } });
    expect((await getTask(stack, task.id)).result).toBeTruthy();
  });
});
