import type { Approval, CreatedApiToken, Task } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { runCli } from '../src/cli';
import { testContext } from './support/test-context';

// `hangar approvals` against the real gateway, with a real agent waiting: Claude Code against the
// scripted model, whose `git-push` scenario pushes twice with Bash, under a profile that gates
// `Bash(git push:*)` (docs/governance.md).
describe('hangar approvals against a running stack', () => {
  let stack: ServiceStack;
  let viewerToken: string;

  beforeAll(async () => {
    stack = await ServiceStack.create('cli-approvals');
    await stack.start(['scripted-model', 'gateway', 'orchestrator', 'agent-runner']);
    const profile = await api('POST', '/api/v1/profiles', {
      name: 'gated',
      allowedTools: ['Bash'],
      approvals: { tools: ['Bash(git push:*)'], timeoutSeconds: 300 },
    });
    expect(profile.status).toBe(201);
    // Tokens are made by people: the stack's first administrator, signed in.
    const login = await fetch(`${stack.gatewayUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(stack.admin),
    });
    expect(login.status).toBe(200);
    const session = login.headers.getSetCookie().find((line) => line.startsWith('hangar_session='));
    const viewer = await api(
      'POST',
      '/api/v1/tokens',
      { name: 'watcher', role: 'viewer' },
      { cookie: session!.split(';')[0]! },
    );
    expect(viewer.status).toBe(201);
    viewerToken = (viewer.body as CreatedApiToken).token;
  }, 120_000);

  afterAll(async () => {
    await stack?.dispose();
  }, 60_000);

  // The gateway's API as the stack's admin token, or as the `headers` say.
  async function api(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${stack.adminToken}` },
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${stack.gatewayUrl}${path}`, {
      method,
      headers: {
        ...headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  // The CLI as the stack's admin, or with another token.
  const hangar = async (args: string[], token = stack.adminToken) => {
    const context = testContext({ HANGAR_API_URL: stack.gatewayUrl, HANGAR_TOKEN: token });
    const code = await runCli(args, context);
    return { code, stdout: context.io.stdout, stderr: context.io.stderr };
  };

  // What `hangar approvals --task <id> --json` lists, read until it holds `count` pending ones:
  // the agent asks only once it reaches the push.
  const pendingOf = async (taskId: string, count: number): Promise<Approval[]> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const listed = await hangar(['approvals', '--task', taskId, '--json']);
      expect(listed.code).toBe(0);
      const items = JSON.parse(listed.stdout.join('\n')) as Approval[];
      if (items.length >= count) return items;
      if (Date.now() > deadline) throw new Error(`no pending approval for task ${taskId} within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  it('should list, show and answer what a real agent waits for, and refuse what the gateway refuses', async () => {
    const created = await api('POST', '/api/v1/tasks', {
      prompt: 'push it',
      scenario: 'git-push',
      profile: 'gated',
    });
    expect(created.status).toBe(201);
    const task = created.body as Task;

    const [first] = await pendingOf(task.id, 1);
    expect(first).toMatchObject({ taskId: task.id, tool: 'Bash', status: 'PENDING' });
    const id = first!.id;

    const listed = await hangar(['approvals', '--task', task.id]);
    expect(listed.code).toBe(0);
    expect(listed.stdout[0]).toMatch(/^ID +TASK +TOOL +CALL +RULE +DEADLINE +STATUS$/);
    expect(listed.stdout[1]).toMatch(
      new RegExp(
        `^${id} +${task.id} +Bash +cd repo && git push \\.\\./origin\\.git HEAD:refs/heads… +Bash\\(git push:\\*\\) +in [45]m +pending$`,
      ),
    );
    expect(listed.stdout).toHaveLength(2);

    const shown = await hangar(['approvals', 'show', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toEqual(
      expect.arrayContaining([
        `approval ${id} · PENDING`,
        `task      ${task.id}`,
        'profile   gated',
        'rule      Bash(git push:*)',
        'answerers operators and admins of project default',
        'input',
        '    "command": "cd repo && git push ../origin.git HEAD:refs/heads/approved",',
      ]),
    );

    // A viewer sees it but may not answer it.
    const byViewer = await hangar(['approvals', 'allow', id], viewerToken);
    expect(byViewer.code).toBe(1);
    expect(byViewer.stderr[0]).toMatch(
      /^error: .* is a viewer in project "default"; this needs operator or more$/,
    );
    expect(byViewer.stderr.slice(1)).toEqual([
      expect.stringMatching(/^\(HTTP 403, FORBIDDEN(, trace \w+)?\)$/),
      "answering takes the operator (or admin) role in the approval's project: ask one of its admins, or answer with an operator's token (HANGAR_TOKEN)",
    ]);

    const denied = await hangar(['approvals', 'deny', id, '--message', 'Open a pull request instead.']);
    expect(denied.code).toBe(0);
    expect(denied.stdout).toEqual([
      expect.stringMatching(
        new RegExp(
          `^✗ Bash\\(cd repo && git push \\.\\./origin\\.git HEAD:refs/heads/approved\\) denied by .+ · approval ${id} of task ${task.id} · the agent is told: Open a pull request instead\\.$`,
        ),
      ),
    ]);

    const again = await hangar(['approvals', 'allow', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toEqual([
      expect.stringMatching(
        new RegExp(`^error: approval ${id} cannot be answered: it was answered already \\(deny by .+\\)$`),
      ),
      expect.stringMatching(/^\(HTTP 409, APPROVAL_CLOSED(, trace \w+)?\)$/),
      `the agent has had its answer; hangar approvals show ${id} shows what it was`,
    ]);

    const unknown = await hangar(['approvals', 'show', 'no-such-approval']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toEqual([
      'error: approval no-such-approval does not exist or is not yours',
      expect.stringMatching(/^\(HTTP 404, APPROVAL_NOT_FOUND(, trace \w+)?\)$/),
      'hangar approvals lists those that wait (--all: every one); those of projects you are not in are not shown',
    ]);

    // The agent goes on to its second push, which asks again; allowed for the task this time.
    const [second] = await pendingOf(task.id, 1);
    expect(second!.id).not.toBe(id);
    const allowed = await hangar(['approvals', 'allow', second!.id, '--for-task']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toEqual([
      expect.stringMatching(
        new RegExp(
          `^✓ Bash\\(git push \\.\\./origin\\.git HEAD:refs/heads/again\\) allowed for the task by .+, and every later call Bash\\(git push:\\*\\) matches · approval ${second!.id} of task ${task.id}$`,
        ),
      ),
    ]);

    const all = await hangar(['approvals', '--task', task.id, '--all']);
    expect(all.code).toBe(0);
    expect(all.stdout.slice(1).map((line) => line.replace(/ +/g, ' '))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${id} .* - denied by .+$`)),
        expect.stringMatching(new RegExp(`^${second!.id} .* - allowed for the task by .+$`)),
      ]),
    );
    const waiting = await hangar(['approvals', '--task', task.id]);
    expect(waiting.stderr).toEqual([
      `no approval of task ${task.id} waits for an answer (--all lists the answered ones too)`,
    ]);
  }, 120_000);
});
