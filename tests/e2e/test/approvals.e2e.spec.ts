import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import {
  SOCKET_NAMESPACE,
  SocketEvents,
  type AnswerApprovalAck,
  type Approval,
  type AuditPage,
  type Task,
  type TaskEvent,
  type TaskEventPage,
} from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import {
  createGatedProfiles,
  createTask,
  follow,
  getTask,
  request,
  signedInMember,
  type Follower,
} from './support';

type Headers = Record<string, string>;

// Agents that ask a person before a risky tool call (docs/governance.md): the real Claude Code
// CLI against the scripted model, in the runner's sandbox. Its `git-push` scenario pushes twice
// with Bash; the profile's approval policy gates `Bash(git push:*)`.
describe('approvals: headless agents ask a person', () => {
  let stack: ServiceStack;
  let operator: Headers;
  let viewer: Headers;

  beforeAll(async () => {
    stack = await ServiceStack.create('approvals');
    await stack.start();
    operator = await signedInMember(stack, { name: 'olga', project: 'default', role: 'operator' });
    viewer = await signedInMember(stack, { name: 'vic', project: 'default', role: 'viewer' });
    await createGatedProfiles(stack, { gated: 120, 'gated-fast': 5 });
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  const start = async (profile: string, extra: Record<string, unknown> = {}) => {
    const task = await createTask(stack, { prompt: 'push it', scenario: 'git-push', profile, ...extra });
    return { task, follower: follow(stack, task.id) };
  };
  const requested = async (follower: Follower, after = 0) =>
    (await follower.waitFor(
      (event) => event.type === 'approval.requested' && event.seq > after,
    )) as TaskEvent & { type: 'approval.requested' };
  const answer = (id: string, body: unknown, as: Headers = operator) =>
    request(stack, 'POST', `/api/v1/approvals/${id}/answer`, body, as);
  const toolResults = (events: TaskEvent[]) =>
    events.flatMap((event) => (event.type === 'tool.result' ? [event.data] : []));
  const audit = async (action: string) =>
    ((await request(stack, 'GET', `/api/v1/audit?action=${action}`)).body as AuditPage).items;

  it('holds the push until an operator allows it for the task, and its wait does not count against the timeout', async () => {
    // A timeout shorter than the wait: the agent still gets its answer and completes.
    const { task, follower } = await start('gated', { timeoutSeconds: 8 });
    const asked = await requested(follower);
    expect(asked.data).toMatchObject({
      tool: 'Bash',
      rule: 'Bash(git push:*)',
      input: { command: 'cd repo && git push ../origin.git HEAD:refs/heads/approved' },
    });

    // It shows on REST: the task waits, the approval is pending, for the operators to answer.
    const waiting = await getTask(stack, task.id);
    expect(waiting.status).toBe('RUNNING');
    expect(waiting.waiting).toEqual({ reason: 'approval', until: asked.data.deadline });
    const pending = (await request(stack, 'GET', `/api/v1/approvals?task=${task.id}`, undefined, viewer))
      .body as { items: Approval[] };
    expect(pending.items).toHaveLength(1);
    expect(pending.items[0]).toMatchObject({
      id: asked.data.approvalId,
      taskId: task.id,
      project: 'default',
      profile: 'gated',
      status: 'PENDING',
      answerableBy: 'operator',
      deadline: asked.data.deadline,
    });
    // Nothing was pushed meanwhile: the push's tool result has not come.
    expect(toolResults(follower.events)).toHaveLength(1);

    // Past the task's own timeout (8 s from its start) while it waits.
    const startedAt = Date.parse(waiting.startedAt!);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + 9_000 - Date.now())));
    const allowed = await answer(asked.data.approvalId, { decision: 'allow-task' });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({
      status: 'ALLOWED',
      decision: 'allow-task',
      answeredBy: 'olga@example.com',
    });

    const events = await follower.finished;
    follower.close();
    const done = await getTask(stack, task.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.waiting).toBeNull();
    // Both pushes ran (the second without asking: allowed for the task), each telling git's own words.
    const [, first, second] = toolResults(events);
    expect(first).toMatchObject({ isError: false, content: expect.stringContaining('HEAD -> approved') });
    expect(second).toMatchObject({ isError: false, content: expect.stringContaining('HEAD -> again') });
    expect(events.filter((event) => event.type === 'approval.requested')).toHaveLength(1);
    const closed = events.find((event) => event.type === 'approval.answered');
    expect(closed?.data).toMatchObject({
      approvalId: asked.data.approvalId,
      status: 'ALLOWED',
      decision: 'allow-task',
      by: 'olga@example.com',
    });
    expect((closed?.data as { waitedMs: number }).waitedMs).toBeGreaterThan(1000);

    expect(await audit('approval.answer')).toContainEqual(
      expect.objectContaining({
        actor: expect.objectContaining({ label: 'olga@example.com' }),
        target: { type: 'approval', id: asked.data.approvalId },
        details: expect.objectContaining({ task: task.id, decision: 'allow-task', rule: 'Bash(git push:*)' }),
      }),
    );
  });

  it('tells the agent a denial, over Socket.IO or REST, and refuses a viewer and a second answer', async () => {
    const { task, follower } = await start('gated');
    const asked = await requested(follower);

    // The agent holds its attempt's credential (in its MCP config): it cannot answer its own
    // approval with it, over REST or Socket.IO.
    const config = JSON.parse(
      await readFile(path.join(stack.dataDir, 'homes', `${task.id}-1`, 'mcp-config.json'), 'utf8'),
    ) as { mcpServers: { hangar: { headers: { Authorization: string } } } };
    const agentAuth = config.mcpServers.hangar.headers.Authorization;
    expect(agentAuth).toMatch(/^Bearer hga_/);
    const byAgent = await answer(
      asked.data.approvalId,
      { decision: 'allow-task' },
      { authorization: agentAuth },
    );
    expect(byAgent.status).toBe(401);
    const agentSocket = io(`${stack.websocketUrl}${SOCKET_NAMESPACE}`, {
      transports: ['websocket'],
      auth: { token: agentAuth.slice('Bearer '.length) },
      reconnection: false,
    });
    const refused = await new Promise<Error>((resolve) => agentSocket.once('connect_error', resolve));
    agentSocket.close();
    expect(refused.message).toMatch(/token/i);

    // A viewer may see it, not answer it; bad answers change nothing.
    const byViewer = await answer(asked.data.approvalId, { decision: 'deny' }, viewer);
    expect(byViewer.status).toBe(403);
    expect(byViewer.contentType).toContain('application/problem+json');
    const badDecision = await answer(asked.data.approvalId, { decision: 'maybe' });
    expect(badDecision.status).toBe(400);
    expect(JSON.stringify(badDecision.body)).toContain('decision');
    const allowWithMessage = await answer(asked.data.approvalId, { decision: 'allow-once', message: 'ok' });
    expect(allowWithMessage.status).toBe(400);
    expect(JSON.stringify(allowWithMessage.body)).toContain('message');
    expect((await answer('no-such-approval', { decision: 'deny' })).status).toBe(404);
    expect(
      ((await request(stack, 'GET', `/api/v1/approvals/${asked.data.approvalId}`)).body as Approval).status,
    ).toBe('PENDING');

    // The first push is denied over Socket.IO, by the operator's session.
    const socket: Socket = io(`${stack.websocketUrl}${SOCKET_NAMESPACE}`, {
      transports: ['websocket'],
      extraHeaders: { cookie: operator['cookie']! },
    });
    try {
      const ack = (await socket.emitWithAck(SocketEvents.answerApproval, {
        approvalId: asked.data.approvalId,
        decision: 'deny',
        message: 'Do not push to that remote: open a pull request instead.',
      })) as AnswerApprovalAck;
      expect(ack).toMatchObject({ ok: true, approval: { status: 'DENIED', answeredBy: 'olga@example.com' } });
      const twice = (await socket.emitWithAck(SocketEvents.answerApproval, {
        approvalId: asked.data.approvalId,
        decision: 'allow-once',
      })) as AnswerApprovalAck;
      expect(twice).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    } finally {
      socket.close();
    }

    // The second push asks again (a denial is for that call); it is denied over REST.
    const again = await requested(follower, asked.seq);
    const denied = await answer(again.data.approvalId, { decision: 'deny' });
    expect(denied.status).toBe(200);
    const second = await answer(again.data.approvalId, { decision: 'allow-once' });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      detail: expect.stringContaining('answered already'),
    });

    const events = await follower.finished;
    follower.close();
    // The agent went on with the denial's words, and finished.
    expect((await getTask(stack, task.id)).status).toBe('COMPLETED');
    const [, first, last] = toolResults(events);
    expect(first).toMatchObject({
      isError: true,
      content: expect.stringContaining('Do not push to that remote: open a pull request instead.'),
    });
    expect(last).toMatchObject({ isError: true, content: expect.stringContaining('no reason given') });
    const answered = (await request(stack, 'GET', `/api/v1/approvals?task=${task.id}&status=all`)).body as {
      items: Approval[];
    };
    expect(answered.items.map((approval) => approval.status)).toEqual(['DENIED', 'DENIED']);
    const audited = await audit('approval.answer');
    expect(audited).toContainEqual(
      expect.objectContaining({
        target: { type: 'approval', id: asked.data.approvalId },
        details: expect.objectContaining({ via: 'socket.io', decision: 'deny' }),
      }),
    );
    expect(audited).toContainEqual(
      expect.objectContaining({ target: { type: 'approval', id: again.data.approvalId } }),
    );
  });

  it('denies a call nobody answered by its deadline', async () => {
    const { task, follower } = await start('gated-fast');
    const events = await follower.finished;
    follower.close();
    const done = await getTask(stack, task.id);
    expect(done.status).toBe('COMPLETED');
    const results = toolResults(events);
    expect(results[1]).toMatchObject({ isError: true, content: expect.stringContaining('Nobody approved') });
    const expired = events.filter((event) => event.type === 'approval.answered');
    expect(expired.map((event) => event.data)).toEqual([
      expect.objectContaining({ status: 'EXPIRED', decision: null, message: 'no answer within 5s: denied' }),
      expect.objectContaining({ status: 'EXPIRED' }),
    ]);
    const items = (
      (await request(stack, 'GET', `/api/v1/approvals?task=${task.id}&status=all`)).body as {
        items: Approval[];
      }
    ).items;
    expect(items.every((approval) => approval.status === 'EXPIRED')).toBe(true);
    const page = (await request(stack, 'GET', `/api/v1/tasks/${task.id}/events`)).body as TaskEventPage;
    expect(page.items.filter((event) => event.type === 'approval.requested')).toHaveLength(2);
    expect(await audit('approval.expire')).toContainEqual(
      expect.objectContaining({
        actor: expect.objectContaining({ type: 'system' }),
        target: { type: 'approval', id: items[0]!.id },
      }),
    );
  });

  it('refuses approvals on a profile whose CLI cannot ask, and patterns it cannot read', async () => {
    const codex = await request(stack, 'POST', '/api/v1/profiles', {
      name: 'codex-gated',
      provider: 'codex',
      approvals: { tools: ['Bash(git push:*)'] },
    });
    expect(codex.status).toBe(400);
    expect(codex.body).toMatchObject({ detail: expect.stringContaining('only Claude Code') });
    const bad = await request(stack, 'POST', '/api/v1/profiles', {
      name: 'bad-gated',
      approvals: { tools: ['Glob(src/**)'], timeoutSeconds: 1 },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('approvals');
    expect((await request(stack, 'GET', '/api/v1/profiles/codex-gated')).status).toBe(404);
    expect((await request(stack, 'GET', '/api/v1/profiles/bad-gated')).status).toBe(404);
    // Unknown query fields and statuses are refused too.
    expect((await request(stack, 'GET', '/api/v1/approvals?status=maybe')).status).toBe(400);
    const unrelated: Task = await getTask(
      stack,
      (await createTask(stack, { prompt: 'hi', scenario: 'reply' })).id,
    );
    expect(unrelated.waiting).toBeNull();
  });
});
