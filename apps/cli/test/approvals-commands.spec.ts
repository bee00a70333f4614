import { ApprovalSchema } from '@hangar/contracts';
import { runCli } from '../src/cli';
import { FakeGateway, type Handler } from './support/fake-gateway';
import { testContext } from './support/test-context';

const MINUTE = 60_000;
const PUSH = 'cd repo && git push ../origin.git HEAD:refs/heads/approved';

// An approval as the gateway answers it; checked with the contract's schema, so a fixture the
// gateway could not send fails here.
function approvalJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return ApprovalSchema.parse({
    id: 'appr-1',
    taskId: 'task-1',
    project: 'default',
    profile: 'gated',
    attempt: 1,
    tool: 'Bash',
    input: { command: PUSH, description: 'Push the branch' },
    rule: 'Bash(git push:*)',
    status: 'PENDING',
    decision: null,
    message: null,
    answeredBy: null,
    answeredAt: null,
    answerableBy: 'operator',
    deadline: new Date(Date.now() + 4.5 * MINUTE).toISOString(),
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  });
}

function problem(status: number, code: string, detail: string): ReturnType<Handler> {
  return {
    status,
    contentType: 'application/problem+json',
    body: { type: 'about:blank', title: 'x', status, detail, code, traceId: 'trace-1' },
  };
}

describe('hangar approvals', () => {
  let gateway: FakeGateway | undefined;
  const start = async (handler: Handler): Promise<string> => {
    gateway = new FakeGateway(handler);
    return gateway.start();
  };
  const requests = () => gateway!.requests.map(({ method, url, body }) => ({ method, url, body }));

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
  });

  it('should list pending approvals as a table: the call, the rule and the time left', async () => {
    const api = await start(() => ({
      status: 200,
      body: {
        items: [
          approvalJson(),
          approvalJson({
            id: 'appr-2',
            taskId: 'task-2',
            tool: 'Write',
            input: { file_path: '/etc/hosts', content: 'x' },
            rule: 'Write(/etc/**)',
            deadline: new Date(Date.now() + 90 * MINUTE + 30_000).toISOString(),
          }),
        ],
      },
    }));
    const context = testContext();
    expect(await runCli(['approvals', '--api', api], context)).toBe(0);
    expect(requests()).toEqual([{ method: 'GET', url: '/api/v1/approvals?status=pending', body: undefined }]);
    expect(context.io.stdout).toEqual([
      'ID      TASK    TOOL   CALL                                                RULE              DEADLINE   STATUS',
      'appr-1  task-1  Bash   cd repo && git push ../origin.git HEAD:refs/heads…  Bash(git push:*)  in 4m      pending',
      'appr-2  task-2  Write  /etc/hosts                                          Write(/etc/**)    in 1h 30m  pending',
    ]);
    expect(context.io.stderr).toEqual([
      'hangar approvals show <id> shows a call whole; hangar approvals allow|deny <id> answers it',
    ]);
  });

  it("should ask for one task's answered approvals and say who answered each", async () => {
    const api = await start(() => ({
      status: 200,
      body: {
        items: [
          approvalJson({
            status: 'ALLOWED',
            decision: 'allow-task',
            answeredBy: 'olga@example.com',
            answeredAt: '2026-01-01T00:01:00.000Z',
          }),
          approvalJson({
            id: 'appr-2',
            project: 'web',
            status: 'EXPIRED',
            message: 'no answer within 5s: denied',
          }),
        ],
      },
    }));
    const context = testContext();
    expect(
      await runCli(
        ['approvals', 'list', '--task', 'task 1', '--answered', '--project', 'web', '--api', api],
        context,
      ),
    ).toBe(0);
    expect(requests()[0]!.url).toBe('/api/v1/approvals?project=web&task=task+1&status=answered');
    // Two projects: a column says whose each is.
    expect(context.io.stdout).toEqual([
      'ID      PROJECT  TASK    TOOL  CALL                                                RULE              DEADLINE  STATUS',
      'appr-1  default  task-1  Bash  cd repo && git push ../origin.git HEAD:refs/heads…  Bash(git push:*)  -         allowed for the task by olga@example.com',
      'appr-2  web      task-1  Bash  cd repo && git push ../origin.git HEAD:refs/heads…  Bash(git push:*)  -         expired',
    ]);
    expect(context.io.stderr).toEqual([]);
  });

  it("should keep an agent's control characters and line breaks out of a table row", async () => {
    const api = await start(() => ({
      status: 200,
      body: {
        items: [
          approvalJson({
            tool: 'mcp__shell__run',
            input: { script: '\u001b[2J\u001b[31mrm -rf /\tnow\u009b0m\nexit 0' },
            rule: 'mcp__shell',
          }),
        ],
      },
    }));
    const context = testContext();
    expect(await runCli(['approvals', '--api', api], context)).toBe(0);
    expect(context.io.stdout[1]).toBe(
      'appr-1  task-1  mcp__shell__run  \\u001b[2J\\u001b[31mrm -rf / now\\u009b0m …  mcp__shell  in 4m     pending',
    );
  });

  it('should say when nothing waits, and print the items as they came with --json', async () => {
    let items: Record<string, unknown>[] = [];
    const api = await start(() => ({ status: 200, body: { items } }));
    const empty = testContext();
    expect(await runCli(['approvals', '--task', 'task-1', '--api', api], empty)).toBe(0);
    expect(empty.io.stdout).toEqual([]);
    expect(empty.io.stderr).toEqual([
      'no approval of task task-1 waits for an answer (--all lists the answered ones too)',
    ]);

    items = [approvalJson({ input: { command: 'echo \u009b31m\u202e' } })];
    const json = testContext();
    expect(await runCli(['approvals', '--all', '--json', '--api', api], json)).toBe(0);
    expect(requests()[1]!.url).toBe('/api/v1/approvals?status=all');
    // Controls JSON.stringify leaves raw are escaped as well: the same value, read back.
    expect(json.io.stdout.join('\n')).toContain('"command": "echo \\u009b31m\\u202e"');
    expect(JSON.parse(json.io.stdout.join('\n'))).toEqual(items);
  });

  it('should refuse --all with --answered, and an unknown command, before asking the gateway', async () => {
    const api = await start(() => ({ status: 200, body: { items: [] } }));
    const both = testContext();
    expect(await runCli(['approvals', '--all', '--answered', '--api', api], both)).toBe(1);
    expect(both.io.stderr[0]).toBe("error: option '--all' cannot be used with option '--answered'");
    const unknown = testContext();
    expect(await runCli(['approvals', 'approve', 'appr-1', '--api', api], unknown)).toBe(1);
    expect(unknown.io.stderr).toEqual([
      'error: hangar approvals has no command "approve": it has list (the default), show, allow and deny',
    ]);
    expect(requests()).toEqual([]);
  });

  it('should show an approval whole, its input as JSON, with the control characters of the agent escaped', async () => {
    const sneaky = 'git push origin main\u001b[2K\r\u001b]0;owned\u0007 # \u202eesrever\u009b31m';
    const api = await start(() => ({
      status: 200,
      body: approvalJson({
        input: { command: sneaky, description: 'Push\nit' },
        deadline: new Date(Date.now() + 4.5 * MINUTE).toISOString(),
      }),
    }));
    const context = testContext();
    expect(await runCli(['approvals', 'show', 'appr-1', '--api', api], context)).toBe(0);
    expect(requests()).toEqual([{ method: 'GET', url: '/api/v1/approvals/appr-1', body: undefined }]);
    expect(context.io.stdout).toEqual([
      'approval appr-1 · PENDING',
      'task      task-1',
      'project   default',
      'profile   gated',
      'attempt   1',
      'tool      Bash',
      'rule      Bash(git push:*)',
      expect.stringMatching(/^deadline {2}\d{4}-\d\d-\d\dT[\d:.]+Z \(in 4m\)$/),
      'created   2026-01-01T00:00:00.000Z',
      'answerers operators and admins of project default',
      'input',
      '  {',
      '    "command": "git push origin main\\u001b[2K\\r\\u001b]0;owned\\u0007 # \\u202eesrever\\u009b31m",',
      '    "description": "Push\\nit"',
      '  }',
    ]);
    // Nothing the agent wrote reaches the terminal as a control character.
    for (const line of context.io.stdout) expect(line).not.toMatch(/[\p{Cc}\u202e]/u);
    expect(context.io.stderr).toEqual([
      'answer it: hangar approvals allow appr-1 [--for-task], or hangar approvals deny appr-1 [--message <text>]',
    ]);
  });

  it('should show how an answered approval ended, with the message the agent was given', async () => {
    const api = await start(() => ({
      status: 200,
      body: approvalJson({
        status: 'DENIED',
        decision: 'deny',
        message: 'Open a pull request instead.\nNot today.',
        answeredBy: 'olga@example.com',
        answeredAt: '2026-01-01T00:02:00.000Z',
        deadline: '2026-01-01T00:15:00.000Z',
      }),
    }));
    const context = testContext();
    expect(await runCli(['approvals', 'show', 'appr-1', '--api', api], context)).toBe(0);
    expect(context.io.stdout.slice(0, 1)).toEqual(['approval appr-1 · DENIED']);
    expect(context.io.stdout).toEqual(
      expect.arrayContaining([
        'deadline  2026-01-01T00:15:00.000Z',
        'answered  2026-01-01T00:02:00.000Z by olga@example.com',
        'decision  deny',
        'message   Open a pull request instead.',
        '          Not today.',
      ]),
    );
    expect(context.io.stdout.join('\n')).not.toContain('answerers');
    expect(context.io.stderr).toEqual([]);
  });

  it('should allow once, for the task with --for-task, and print each answer in one line', async () => {
    const api = await start((request) => {
      const decision = (request.body as { decision: string }).decision;
      return {
        status: 200,
        body: approvalJson({
          status: 'ALLOWED',
          decision,
          answeredBy: 'olga@example.com',
          answeredAt: '2026-01-01T00:01:00.000Z',
        }),
      };
    });
    const context = testContext();
    expect(await runCli(['approvals', 'allow', 'appr-1', '--api', api], context)).toBe(0);
    expect(await runCli(['approvals', 'allow', 'appr-1', '--for-task', '--api', api], context)).toBe(0);
    expect(requests()).toEqual([
      { method: 'POST', url: '/api/v1/approvals/appr-1/answer', body: { decision: 'allow-once' } },
      { method: 'POST', url: '/api/v1/approvals/appr-1/answer', body: { decision: 'allow-task' } },
    ]);
    expect(context.io.stdout).toEqual([
      `✓ Bash(${PUSH}) allowed once by olga@example.com · approval appr-1 of task task-1`,
      `✓ Bash(${PUSH}) allowed for the task by olga@example.com, and every later call Bash(git push:*) matches · approval appr-1 of task task-1`,
    ]);
  });

  it('should deny with the message the agent is told, trimmed as the gateway would', async () => {
    const api = await start((request) => ({
      status: 200,
      body: approvalJson({
        status: 'DENIED',
        decision: 'deny',
        message: (request.body as { message?: string }).message ?? 'denied by olga@example.com',
        answeredBy: 'olga@example.com',
        answeredAt: '2026-01-01T00:01:00.000Z',
      }),
    }));
    const context = testContext();
    expect(
      await runCli(
        ['approvals', 'deny', 'appr-1', '--message', '  Open a pull request.  ', '--api', api],
        context,
      ),
    ).toBe(0);
    expect(requests()).toEqual([
      {
        method: 'POST',
        url: '/api/v1/approvals/appr-1/answer',
        body: { decision: 'deny', message: 'Open a pull request.' },
      },
    ]);
    expect(context.io.stdout).toEqual([
      `✗ Bash(${PUSH}) denied by olga@example.com · approval appr-1 of task task-1 · the agent is told: Open a pull request.`,
    ]);

    const json = testContext();
    expect(await runCli(['approvals', 'deny', 'appr-1', '--json', '--api', api], json)).toBe(0);
    expect(requests()[1]!.body).toEqual({ decision: 'deny' });
    expect(JSON.parse(json.io.stdout.join('\n'))).toMatchObject({
      status: 'DENIED',
      message: 'denied by olga@example.com',
    });
  });

  it('should refuse an empty --message, and --message on allow, without sending anything', async () => {
    const api = await start(() => ({ status: 200, body: approvalJson() }));
    const empty = testContext();
    expect(await runCli(['approvals', 'deny', 'appr-1', '--message', '   ', '--api', api], empty)).toBe(1);
    expect(empty.io.stderr).toEqual([
      'error: --message: must not be empty (leave --message out to tell the agent who denied it)',
    ]);
    const long = testContext();
    expect(await runCli(['approvals', 'deny', 'appr-1', '-m', 'x'.repeat(2001), '--api', api], long)).toBe(1);
    expect(long.io.stderr).toEqual(['error: --message: must be at most 2000 characters']);
    const onAllow = testContext();
    expect(await runCli(['approvals', 'allow', 'appr-1', '--message', 'ok', '--api', api], onAllow)).toBe(1);
    expect(onAllow.io.stderr[0]).toBe("error: unknown option '--message'");
    expect(requests()).toEqual([]);
  });

  it('should say what to do when the approval is answered already, unknown, or not yours to answer', async () => {
    const closed =
      'approval appr-1 cannot be answered: it was answered already (allow-task by olga@example.com)';
    const api = await start((request) => {
      if (request.url.startsWith('/api/v1/approvals/nope'))
        return problem(404, 'APPROVAL_NOT_FOUND', 'approval nope does not exist or is not yours');
      if (request.url.startsWith('/api/v1/approvals/mine'))
        return problem(
          403,
          'FORBIDDEN',
          'vic@example.com is a viewer in project "default"; this needs operator or more',
        );
      return problem(409, 'APPROVAL_CLOSED', closed);
    });
    const twice = testContext();
    expect(await runCli(['approvals', 'deny', 'appr-1', '--api', api], twice)).toBe(1);
    expect(twice.io.stdout).toEqual([]);
    expect(twice.io.stderr).toEqual([
      `error: ${closed}`,
      '(HTTP 409, APPROVAL_CLOSED, trace trace-1)',
      'the agent has had its answer; hangar approvals show appr-1 shows what it was',
    ]);

    const unknown = testContext();
    expect(await runCli(['approvals', 'show', 'nope', '--api', api], unknown)).toBe(1);
    expect(unknown.io.stderr).toEqual([
      'error: approval nope does not exist or is not yours',
      '(HTTP 404, APPROVAL_NOT_FOUND, trace trace-1)',
      'hangar approvals lists those that wait (--all: every one); those of projects you are not in are not shown',
    ]);

    const viewer = testContext();
    expect(await runCli(['approvals', 'allow', 'mine', '--api', api], viewer)).toBe(1);
    expect(viewer.io.stderr).toEqual([
      'error: vic@example.com is a viewer in project "default"; this needs operator or more',
      '(HTTP 403, FORBIDDEN, trace trace-1)',
      "answering takes the operator (or admin) role in the approval's project: ask one of its admins, or answer with an operator's token (HANGAR_TOKEN)",
    ]);
  });

  it('should refuse an answer that is not an approval instead of printing nonsense', async () => {
    const api = await start(() => ({ status: 200, body: { ok: true } }));
    const context = testContext();
    expect(await runCli(['approvals', 'allow', 'appr-1', '--api', api], context)).toBe(1);
    expect(context.io.stderr).toEqual([
      'error: the gateway answered with something that is not an approval',
      '(HTTP 200)',
    ]);
  });
});
