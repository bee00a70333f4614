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
