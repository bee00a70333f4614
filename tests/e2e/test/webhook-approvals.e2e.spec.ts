import { Client } from 'pg';
import type {
  Approval,
  AuditPage,
  CreatedWebhook,
  Task,
  TaskEvent,
  WebhookDelivery,
} from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { ProviderApisFake, type RecordedCall } from './fakes/provider-apis.fake';
import { createGatedProfiles, follow, getTask, request } from './support';
import { githubExample, sendGitHub } from './webhook-senders';

const TOKEN = 'ghp_approvalstoken0123456';

interface Example {
  issue: { number: number; title: string };
  comment: { id: number; body: string; user: { login: string } };
  repository: { full_name: string };
}

// Approvals answered where the task came from (docs/governance.md): a GitHub issue comment starts
// a task whose agent (the real CLI, the `git-push` scenario) asks before `git push`; Hangar says so
// in the issue, and "@hangar approve-all|deny …" comments answer it. GitHub's API is a fake.
describe('approvals from a webhook thread', () => {
  let stack: ServiceStack;
  let fake: ProviderApisFake;
  let db: Client;
  let webhook: CreatedWebhook;

  beforeAll(async () => {
    fake = await new ProviderApisFake({ githubToken: TOKEN }).start();
    stack = await ServiceStack.create('webhook-approvals', {
      GITHUB_API_URL: fake.githubApiUrl,
      WEBHOOK_REPLY_INTERVAL_MS: '200',
      WEBHOOK_API_ALLOWED_HOSTS: new URL(fake.url).host,
      HANGAR_PUBLIC_URL: 'https://hangar.example.com',
    });
    await stack.start();
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
    await createGatedProfiles(stack, { gated: 120, 'gated-fast': 5 });
    const answer = (name: string, decision: string) => ({
      name,
      events: ['issue_comment.created'],
      trigger: { type: 'mention' },
      action: { type: 'answer_approval', decision },
    });
    const response = await request(stack, 'POST', '/api/v1/webhooks', {
      provider: 'github',
      name: 'gated-repo',
      apiUrl: fake.githubApiUrl,
      credentials: { token: TOKEN },
      commands: [
        answer('approve', 'allow-once'),
        answer('approve-all', 'allow-task'),
        answer('deny', 'deny'),
        {
          name: 'push',
          events: ['issue_comment.created'],
          trigger: { type: 'mention' },
          action: {
            type: 'create_task',
            template: '{{hangar.args}}',
            profile: 'gated',
            scenario: 'git-push',
          },
        },
        {
          name: 'push-fast',
          events: ['issue_comment.created'],
          trigger: { type: 'mention' },
          action: {
            type: 'create_task',
            template: '{{hangar.args}}',
            profile: 'gated-fast',
            scenario: 'git-push',
          },
        },
      ],
    });
    expect(response.status).toBe(201);
    webhook = response.body as CreatedWebhook;
  });

  afterAll(async () => {
    await db?.end();
    await stack?.dispose();
    await fake?.close();
  });

  // A comment on issue `number`, by the example's author (the repository's owner).
  async function comment(number: number, body: string): Promise<WebhookDelivery> {
    const payload = githubExample('issue_comment', 'created') as unknown as Example;
    payload.issue.number = number;
    payload.comment.body = body;
    const sent = await sendGitHub(stack, webhook.path, {
      event: 'issue_comment',
      payload,
      secret: webhook.secret,
    });
    expect(sent.status).toBe(202);
    const id = (sent.body as { delivery: string }).delivery;
    for (const deadline = Date.now() + 30_000; ;) {
      const delivery = (await request(stack, 'GET', `/api/v1/webhook-deliveries/${id}`))
        .body as WebhookDelivery;
      if (!['queued', 'waiting'].includes(delivery.status)) return delivery;
      if (Date.now() > deadline) throw new Error(`delivery ${id} still ${delivery.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const commentsOn = (number: number) => (call: RecordedCall) =>
    call.method === 'POST' && call.path === `/repos/Codertocat/Hello-World/issues/${number}/comments`;
  const textOf = (call: RecordedCall) => (call.body as { body: string }).body;
  const nextComment = (number: number, includes: string) => {
    const seen = fake.calls.length;
    return fake.waitFor(
      (call, index) => index >= seen && commentsOn(number)(call) && textOf(call).includes(includes),
      60_000,
    );
  };
  const approvalsOf = async (taskId: string) =>
    (
      (await request(stack, 'GET', `/api/v1/approvals?task=${taskId}&status=all`)).body as {
        items: Approval[];
      }
    ).items;

  it('asks in the issue, and an "@hangar approve-all <id>" comment lets every push run', async () => {
    const asked = nextComment(701, 'the agent asks to run Bash');
    const started = await comment(701, '@hangar push the branch please');
    expect(started.status).toBe('task_created');
    const taskId = started.taskId!;
    const follower = follow(stack, taskId);
    const question = textOf(await asked);
    const [approval] = await approvalsOf(taskId);
    expect(approval).toMatchObject({ status: 'PENDING', rule: 'Bash(git push:*)' });
    // What it says: the call, the rule, the three answers with the approval's id, and a link.
    expect(question).toContain(`task [\`${taskId}\`](https://hangar.example.com/tasks/${taskId}) waiting`);
    expect(question).toContain('cd repo && git push ../origin.git HEAD:refs/heads/approved');
    expect(question).toContain('`Bash(git push:*)`');
    expect(question).toContain(`\`@hangar approve-all ${approval!.id}\``);
    expect(question).toContain(`\`@hangar deny ${approval!.id} <why>\``);

    const told = nextComment(701, 'allowed for the rest of the task');
    const answered = await comment(701, `@hangar approve-all ${approval!.id}`);
    expect(answered).toMatchObject({ status: 'acted', command: 'approve-all' });
    expect(textOf(await told)).toContain('Bash allowed for the rest of the task by @Codertocat');

    const events = await follower.finished;
    follower.close();
    const done: Task = await getTask(stack, taskId);
    expect(done.status).toBe('COMPLETED');
    const results = events.flatMap((event: TaskEvent) => (event.type === 'tool.result' ? [event.data] : []));
    expect(results.slice(1).map((result) => result.isError)).toEqual([false, false]);
    expect(await approvalsOf(taskId)).toEqual([
      expect.objectContaining({
        status: 'ALLOWED',
        decision: 'allow-task',
        answeredBy: '@Codertocat (gated-repo webhook)',
      }),
    ]);
    const audit = (await request(stack, 'GET', '/api/v1/audit?action=approval.answer')).body as AuditPage;
    expect(audit.items).toContainEqual(
      expect.objectContaining({
        actor: expect.objectContaining({ type: 'webhook', label: 'gated-repo webhook' }),
        target: { type: 'approval', id: approval!.id },
        details: expect.objectContaining({ via: 'github', by: '@Codertocat', decision: 'allow-task' }),
      }),
    );
  });

  it("denies from the thread with its words, without naming the only pending call, and answers nothing of another thread's", async () => {
    const asked = nextComment(702, 'the agent asks to run Bash');
    const started = await comment(702, '@hangar push-fast the branch');
    const taskId = started.taskId!;
    const follower = follow(stack, taskId);
    await asked;
    const [approval] = await approvalsOf(taskId);

    // Another issue's thread has nothing waiting: its "approve" answers nothing here.
    const elsewhere = await comment(703, `@hangar approve ${approval!.id}`);
    expect(elsewhere.status).toBe('ignored');
    expect(elsewhere.reason).toContain('nothing of this thread waits for approval');
    expect((await approvalsOf(taskId))[0]!.status).toBe('PENDING');

    const denied = await comment(702, '@hangar deny not on a Friday');
    expect(denied.status).toBe('acted');
    // The second push asks again; nobody answers it within the profile's 5 s.
    const events = await follower.finished;
    follower.close();
    expect((await getTask(stack, taskId)).status).toBe('COMPLETED');
    const results = events.flatMap((event: TaskEvent) => (event.type === 'tool.result' ? [event.data] : []));
    expect(results[1]).toMatchObject({
      isError: true,
      content: expect.stringContaining('not on a Friday'),
    });
    expect((await approvalsOf(taskId)).map((one) => one.status).sort()).toEqual(['DENIED', 'EXPIRED']);

    // An answer after the fact says why nothing changed.
    const told = nextComment(702, 'cannot be answered');
    const late = await comment(702, `@hangar approve ${approval!.id}`);
    expect(late.status).toBe('acted');
    expect(textOf(await told)).toContain('answered already');
  });
});
