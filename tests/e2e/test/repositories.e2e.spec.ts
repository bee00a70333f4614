import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expectedClaudeCostUsd, expectedUsage } from '@hangar/agents';
import type { Problem, TaskDiff } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { countTasks, createTask, follow, getTask, request } from './support';
import { bareRepository, git } from './git';

describe('tasks on git repositories', () => {
  let stack: ServiceStack;
  let repos: string;
  let bare: string;

  beforeAll(async () => {
    stack = await ServiceStack.create('repositories');
    repos = path.join(stack.dataDir, 'repos');
    bare = bareRepository(repos);
    await stack.start(undefined, { WORKSPACE_ALLOWED_LOCAL_ROOTS: repos });
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('should leave a diff of exactly what the agent changed and push branch hangar/<id>', async () => {
    const task = await createTask(stack, {
      prompt: 'Greet from Hangar in the README',
      scenario: 'edit-file',
      repository: bare,
      ref: 'main',
      push: true,
    });
    const follower = follow(stack, task.id);
    const events = await follower.finished;
    follower.close();
    expect(events.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'COMPLETED' } });
    expect(
      events
        .filter((event) => event.type === 'tool.use')
        .map((event) => (event.data as { name: string }).name),
    ).toEqual(['Read', 'Edit', 'Bash']);

    const done = await getTask(stack, task.id);
    expect(done).toMatchObject({ branch: `hangar/${task.id}`, repository: bare, ref: 'main', push: true });
    expect(done.pushedAt).not.toBeNull();
    expect(done.baseCommit).toBe(git(repos, '--git-dir', bare, 'rev-parse', 'main'));
    // The scenario declares its token usage, so the cost the CLI reported is known to the cent.
    expect(done.usage).toEqual(await expectedUsage('edit-file'));
    expect(done.costUsd).toBe(await expectedClaudeCostUsd('edit-file'));

    const response = await request(stack, 'GET', `/api/v1/tasks/${task.id}/diff`);
    expect(response.status).toBe(200);
    const diff = response.body as TaskDiff;
    expect(diff.files).toEqual([{ path: 'README.md', status: 'modified', additions: 1, deletions: 1 }]);
    expect(diff).toMatchObject({ linesAdded: 1, linesRemoved: 1, truncated: false });
    expect(diff.unifiedDiff).toContain('-Hello\n+Hello from Hangar\n');

    // The bare repository now has the task's branch, at the commit the diff describes.
    expect(git(repos, '--git-dir', bare, 'rev-parse', `refs/heads/hangar/${task.id}`)).toBe(diff.commit);
    expect(git(repos, '--git-dir', bare, 'show', `hangar/${task.id}:README.md`)).toBe('Hello from Hangar');
  });

  it('should start from a tag and not push unless asked', async () => {
    const task = await createTask(stack, {
      prompt: 'edit',
      scenario: 'edit-file',
      repository: bare,
      ref: 'v1',
    });
    const follower = follow(stack, task.id);
    await follower.finished;
    follower.close();
    const done = await getTask(stack, task.id);
    expect(done).toMatchObject({ status: 'COMPLETED', pushedAt: null });
    expect(git(repos, '--git-dir', bare, 'branch', '--list', `hangar/${task.id}`)).toBe('');
  });

  it('should fail a task whose ref does not exist, saying so', async () => {
    const task = await createTask(stack, {
      prompt: 'edit',
      scenario: 'edit-file',
      repository: bare,
      ref: 'no-such-branch',
    });
    const follower = follow(stack, task.id);
    await follower.finished;
    follower.close();
    const failed = await getTask(stack, task.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/^workspace: .*no-such-branch/);
  });

  it.each([
    ['option injection', { repository: '--upload-pack=touch /tmp/hangar-pwned' }, 'repository'],
    ['a transport helper', { repository: 'ext::sh -c touch% /tmp/hangar-pwned' }, 'repository'],
    ['a .. path', { repository: '__REPOS__/../../etc' }, 'repository'],
    ['a path outside the allowed roots', { repository: '/etc' }, 'repository'],
    ['credentials in the URL', { repository: 'https://user:secret@example.com/org/repo.git' }, 'repository'],
    ['an option as ref', { repository: '__BARE__', ref: '--orphan' }, 'ref'],
  ])(
    'should refuse %s with 400 naming the field, cloning and queuing nothing',
    async (_what, body, field) => {
      const resolved = Object.fromEntries(
        Object.entries(body).map(([key, value]) => [
          key,
          value.replace('__REPOS__', repos).replace('__BARE__', bare),
        ]),
      );
      const before = existsSync(stack.workspaceRoot) ? readdirSync(stack.workspaceRoot).length : 0;
      const tasksBefore = await countTasks(stack);
      const response = await request(stack, 'POST', '/api/v1/tasks', {
        prompt: 'x',
        scenario: 'reply',
        ...resolved,
      });
      expect(response.status).toBe(400);
      const problem = response.body as Problem;
      expect(problem.code).toBe('INVALID_REPOSITORY');
      expect(problem.errors?.[0]?.field).toBe(field);
      expect(existsSync('/tmp/hangar-pwned')).toBe(false);
      expect(existsSync(stack.workspaceRoot) ? readdirSync(stack.workspaceRoot).length : 0).toBe(before);
      expect(await countTasks(stack)).toBe(tasksBefore);
    },
  );

  it('should refuse an oversize prompt with 400', async () => {
    const response = await request(stack, 'POST', '/api/v1/tasks', { prompt: 'x'.repeat(100_001) });
    expect(response.status).toBe(400);
    expect((response.body as Problem).errors).toEqual([
      { field: 'prompt', message: 'must be at most 100000 characters' },
    ]);
  });
});
