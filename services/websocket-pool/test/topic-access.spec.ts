import { Principal, type ProjectAccess } from '@hangar/auth';
import { WorkflowDefinitionSchema, type Topic } from '@hangar/contracts';
import {
  ConversationRepository,
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  TaskRepository,
  WorkflowRepository,
  WorkflowRunRepository,
  type PrismaClient,
} from '@hangar/db';
import { TaskStateStore } from '@hangar/db/task-state';
import { createTestDatabase, type TestDatabase } from '@hangar/testing';
import { SubscribeRefused, TopicAccess } from '../src/modules/realtime/topic-access';

const member = (id: string, role: ProjectAccess['role']): ProjectAccess => ({
  id,
  slug: id,
  name: id,
  createdAt: '2026-12-01T00:00:00.000Z',
  routingStrategy: null,
  role,
});

const caller = (...projects: ProjectAccess[]) =>
  new Principal({ type: 'token', id: 'token-1', label: 'token watcher (hgr_w…)' }, projects, null, null);

// Who may watch what, over the real PostgreSQL: a topic belongs to its project, whose every
// member may watch it; anything else is UNKNOWN, whether it exists or not.
describe(TopicAccess.name, () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let access: TopicAccess;
  let runId: string;
  let taskId: string;

  beforeAll(async () => {
    database = await createTestDatabase('topic_access');
    prisma = createPrismaClient(database.url);
    const runs = new WorkflowRunRepository(prisma);
    access = new TopicAccess(new TaskRepository(prisma), new ConversationRepository(prisma), runs);
    const workflow = await new WorkflowRepository(prisma).create(
      DEFAULT_PROJECT_ID,
      WorkflowDefinitionSchema.parse({ name: 'watched', steps: [{ id: 'only', prompt: 'hi' }] }),
      'test',
    );
    runId = await runs.create({
      workflowId: workflow.id,
      version: 1,
      projectId: DEFAULT_PROJECT_ID,
      inputs: {},
      deadlineAt: null,
      createdBy: 'test',
    });
    taskId = (await new TaskStateStore(prisma).create({ projectId: DEFAULT_PROJECT_ID, prompt: 'watched' }))
      .id;
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await database.drop();
  });

  const refusal = (principal: Principal, topic: Topic) =>
    access.check(principal, topic).then(
      () => 'allowed',
      (error: unknown) => {
        if (error instanceof SubscribeRefused) return error.code;
        throw error;
      },
    );

  it("should let any member of a workflow run's project watch it, a viewer too", async () => {
    await expect(
      refusal(caller(member(DEFAULT_PROJECT_ID, 'viewer')), `workflow-run:${runId}`),
    ).resolves.toBe('allowed');
    await expect(
      refusal(
        caller(member('elsewhere', 'admin'), member(DEFAULT_PROJECT_ID, 'operator')),
        `workflow-run:${runId}`,
      ),
    ).resolves.toBe('allowed');
  });

  it('should refuse a run that does not exist, and one of a project the caller is not in, like a task', async () => {
    const outsider = caller(member('elsewhere', 'admin'));
    const insider = caller(member(DEFAULT_PROJECT_ID, 'viewer'));
    const answers = await Promise.all([
      refusal(insider, 'workflow-run:nosuchrun'),
      refusal(outsider, `workflow-run:${runId}`),
      refusal(insider, 'task:nosuchtask'),
      refusal(outsider, `task:${taskId}`),
    ]);
    expect(answers).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN']);
    // Nothing in the message tells a run that exists from one that does not.
    const messages = await Promise.all(
      ([`workflow-run:${runId}`, 'workflow-run:nosuchrun'] as const).map((topic) =>
        access.check(outsider, topic).catch((error: Error) => error.message),
      ),
    );
    expect(messages).toEqual([
      `workflow-run:${runId} does not exist or is not yours`,
      'workflow-run:nosuchrun does not exist or is not yours',
    ]);
  });
});
