import { AuditRepository, DEFAULT_PROJECT_ID, type NewAuditEntry } from '../src';
import { migratedDatabase } from './fresh-database';

// Entries recorded at once (concurrent requests) are written together: each request still
// waits for its own entry, each entry is stored whole, and an entry
// PostgreSQL refuses fails its own request alone.
describe(AuditRepository.name, () => {
  const database = migratedDatabase('audit');
  const entry = (index: number, overrides: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
    projectId: DEFAULT_PROJECT_ID,
    actor: { type: 'token', id: `token-${index}`, label: `token ${index}` },
    action: 'POST /api/v1/tasks',
    target: { type: 'task', id: `task-${index}` },
    ip: '10.0.0.1',
    userAgent: 'bench',
    traceId: `trace-${index}`,
    details: { index },
    ...overrides,
  });

  afterEach(() => database.prisma.auditEntry.deleteMany());

  it('stores every entry of requests made at once, whole', async () => {
    const audit = new AuditRepository(database.prisma);
    await Promise.all(Array.from({ length: 40 }, (_, index) => audit.record(entry(index))));
    const rows = await database.prisma.auditEntry.findMany();
    expect(rows.map((row) => row.targetId).sort()).toEqual(
      Array.from({ length: 40 }, (_, index) => `task-${index}`).sort(),
    );
    expect(rows.find((row) => row.targetId === 'task-7')).toMatchObject({
      projectId: DEFAULT_PROJECT_ID,
      actorType: 'token',
      actorId: 'token-7',
      actorLabel: 'token 7',
      action: 'POST /api/v1/tasks',
      targetType: 'task',
      ip: '10.0.0.1',
      userAgent: 'bench',
      traceId: 'trace-7',
      details: { index: 7 },
    });
  });

  it('fails only the request whose entry PostgreSQL refuses, and stores the others', async () => {
    const audit = new AuditRepository(database.prisma);
    // PostgreSQL's text holds no NUL character: this entry cannot be stored.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, index) =>
        audit.record(
          entry(index, index === 3 ? { actor: { type: 'user', id: null, label: 'a\u0000b' } } : {}),
        ),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const rows = await database.prisma.auditEntry.findMany();
    expect(rows.map((row) => row.targetId).sort()).toEqual([
      'task-0',
      'task-1',
      'task-2',
      'task-4',
      'task-5',
    ]);
  });
});
