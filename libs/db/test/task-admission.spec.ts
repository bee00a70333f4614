import { admitWaiting, DEFAULT_PROJECT_ID, Prisma, TaskAdmission } from '../src';
import { TaskStateStore } from '../src/task-state';
import { migratedDatabase } from './fresh-database';

describe(TaskAdmission.name, () => {
  const database = migratedDatabase('admission');

  it('should admit the one waiting task of a project without reading the thousands already on the queues', async () => {
    // 3,000 tasks admitted and waiting for a runner, as behind a long queue.
    await database.prisma.$executeRaw`
      INSERT INTO tasks (id, project_id, profile_id, prompt, timeout_seconds, status, admitted_at, updated_at)
      SELECT 'queued-' || g, ${DEFAULT_PROJECT_ID}, 'default', 'waiting on the queue', 60, 'QUEUED', now(), now()
      FROM generate_series(1, 3000) AS g`;
    const waiting = await new TaskStateStore(database.prisma).create({
      projectId: DEFAULT_PROJECT_ID,
      prompt: 'just created',
    });
    await database.prisma.$executeRaw`ANALYZE tasks`;

    // The statement reads the partial index of tasks awaiting admission, not the project's
    // QUEUED tasks (each creation read every one of them, and cost more the longer the queue).
    const plan = await database.prisma.$queryRaw<{ 'QUERY PLAN': unknown }[]>(
      Prisma.sql`EXPLAIN (FORMAT JSON) ${admitWaiting(DEFAULT_PROJECT_ID, 500, [])}`,
    );
    expect(JSON.stringify(plan[0]?.['QUERY PLAN'])).toContain('"Index Name":"tasks_awaiting_admission_idx"');

    const admitted = await new TaskAdmission(database.prisma).admit(DEFAULT_PROJECT_ID, 0);
    expect(admitted.map((task) => task.id)).toEqual([waiting.id]);
  });
});

describe('a task’s trace (tasks.trace)', () => {
  const database = migratedDatabase('task_trace');
  const trace = {
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'vendor=abc',
  };

  it('should keep the creating request’s trace, name its trace id in the view, and hand it to routing', async () => {
    const store = new TaskStateStore(database.prisma);
    const traced = await store.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'traced', trace });
    const untraced = await store.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'untraced' });
    expect(traced.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(untraced.traceId).toBeNull();

    const admission = new TaskAdmission(database.prisma);
    const admitted = await admission.admit(DEFAULT_PROJECT_ID, 0);
    expect(new Map(admitted.map((task) => [task.id, task.trace]))).toEqual(
      new Map([
        [traced.id, trace],
        [untraced.id, null],
      ]),
    );
    // The reconciler's read of admitted tasks carries it too.
    expect((await admission.queuedIn([traced.id]))[0]?.trace).toEqual(trace);
  });

  it('should keep a delegated child’s trace (created through Prisma)', async () => {
    const store = new TaskStateStore(database.prisma);
    const parent = await store.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'parent' });
    const child = await store.createChild(
      { id: 'ctracedchild', projectId: DEFAULT_PROJECT_ID, prompt: 'child', parentTaskId: parent.id, trace },
      5,
    );
    expect(child).toMatchObject({ kind: 'created', task: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736' } });
  });
});
