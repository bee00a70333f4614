import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import type {
  AuditPage,
  CreatedWebhook,
  DeliveryPage,
  Task,
  WebhookCommandInput,
  WebhookDelivery,
  WorkflowRun,
} from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { ProviderApisFake, type RecordedCall } from './fakes/provider-apis.fake';
import { bareRepository } from './git';
import { countTasks, follow, getTask, request } from './support';
import { githubExample, sendGitHub, sendJira, sendSentry, sendSlack } from './webhook-senders';

const SECRETS = {
  github: 'github-static-secret-0123456789',
  slack: 'slack-signing-secret-0123456789',
  jira: 'jira-webhook-secret-0123456789',
  sentry: 'sentry-client-secret-0123456789',
};
const CREDENTIALS = {
  githubToken: 'ghp_statictoken0123456789',
  slackBotToken: 'xoxb-static-bot-token-0123',
  jiraEmail: 'bot@example.com',
  jiraApiToken: 'jira-api-token-0123456789',
};

interface Example {
  issue: { number: number; title: string };
  comment: { id: number; body: string; user: { login: string }; path?: string };
  pull_request: { number: number; title: string; html_url: string };
  repository: { full_name: string; clone_url: string; name: string; owner: { login: string } };
  sender: { login: string };
  label: { name: string };
}

// Webhooks end to end: signed deliveries from GitHub, Slack, Jira and Sentry start real tasks (the
// Claude Code CLI against the scripted model), and the answers reach a fake of those APIs.
describe('webhooks', () => {
  let stack: ServiceStack;
  let fake: ProviderApisFake;
  let db: Client;
  let repository: string;

  beforeAll(async () => {
    fake = await new ProviderApisFake({
      ...CREDENTIALS,
      moreGithubTokens: ['ghp_configuredtoken01234', 'ghp_threadtoken012345', 'ghp_actiontoken0123456'],
    }).start();
    stack = await ServiceStack.create('webhooks', {
      GITHUB_WEBHOOK_SECRET: SECRETS.github,
      GITHUB_TOKEN: CREDENTIALS.githubToken,
      GITHUB_API_URL: fake.githubApiUrl,
      SLACK_SIGNING_SECRET: SECRETS.slack,
      SLACK_BOT_TOKEN: CREDENTIALS.slackBotToken,
      SLACK_API_URL: fake.slackApiUrl,
      JIRA_WEBHOOK_SECRET: SECRETS.jira,
      JIRA_BASE_URL: fake.jiraUrl,
      JIRA_EMAIL: CREDENTIALS.jiraEmail,
      JIRA_API_TOKEN: CREDENTIALS.jiraApiToken,
      SENTRY_CLIENT_SECRET: SECRETS.sentry,
      WEBHOOK_REPLY_INTERVAL_MS: '200',
      // The fake stands in for a GitHub Enterprise and a Jira site inside the network: allowed.
      WEBHOOK_API_ALLOWED_HOSTS: new URL(fake.url).host,
      HANGAR_PUBLIC_URL: 'https://hangar.example.com',
      RUNNER_SLOTS: '3',
      // This suite polls deliveries every 50 ms: on a slow machine that is more than the
      // default 300 requests a minute from one IP. Rate limits have their own spec.
      RATE_LIMIT_IP_PER_MINUTE: '0',
      RATE_LIMIT_TOKEN_PER_MINUTE: '0',
    });
    const repositories = path.join(stack.dataDir, 'repositories');
    repository = bareRepository(repositories);
    await stack.start(undefined, { WORKSPACE_ALLOWED_LOCAL_ROOTS: repositories });
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.dispose();
    await fake?.close();
  });

  // Deliveries are processed by a queue worker with no event to subscribe to: ask until it is done.
  async function settled(id: string, timeoutMs = 30_000): Promise<WebhookDelivery> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const delivery = (await request(stack, 'GET', `/api/v1/webhook-deliveries/${id}`))
        .body as WebhookDelivery;
      if (!['queued', 'waiting'].includes(delivery.status)) return delivery;
      if (Date.now() > deadline) throw new Error(`delivery ${id} still ${delivery.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  // The answer's row once the dispatcher is done with it (sent, or failed for good).
  async function replyOutcome(
    taskId: string,
    timeoutMs = 30_000,
  ): Promise<{ status: string; error: string | null }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = (await db.query('SELECT status, error FROM webhook_replies WHERE task_id = $1', [taskId]))
        .rows[0] as { status: string; error: string | null } | undefined;
      if (row && row.status !== 'pending') return row;
      if (Date.now() > deadline)
        throw new Error(`the answer to ${taskId} is still ${row?.status ?? 'missing'}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function finished(taskId: string): Promise<Task> {
    const follower = follow(stack, taskId);
    await follower.finished;
    follower.close();
    return getTask(stack, taskId);
  }

  const deliveryIdOf = (body: unknown) => (body as { delivery: string }).delivery;
  const nextCall = (predicate: (call: RecordedCall) => boolean) => {
    const seen = fake.calls.length;
    return fake.waitFor((call, index) => index >= seen && predicate(call), 60_000);
  };

  async function createWebhook(body: Record<string, unknown>): Promise<CreatedWebhook> {
    const response = await request(stack, 'POST', '/api/v1/webhooks', body);
    if (response.status !== 201)
      throw new Error(`POST /api/v1/webhooks answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body as CreatedWebhook;
  }

  describe("GitHub's published payloads", () => {
    let webhook: CreatedWebhook;
    const commands: WebhookCommandInput[] = [
      {
        name: 'triage',
        events: ['issues.labeled'],
        trigger: { type: 'label', label: 'bug' },
        action: {
          type: 'create_task',
          template:
            'Triage #{{issue.number}} "{{issue.title}}" of {{repository.full_name}} for {{sender.login}}',
          repository: '{{repository.clone_url}}',
          priority: 'high',
        },
      },
      {
        name: 'answer',
        events: ['issue_comment.created'],
        trigger: { type: 'event' },
        action: {
          type: 'create_task',
          template: 'On "{{issue.title}}", {{comment.user.login}} wrote: {{comment.body}}',
          repository: '{{repository.clone_url}}',
        },
      },
      {
        name: 'review',
        events: ['pull_request_review_comment.created'],
        trigger: { type: 'event' },
        action: {
          type: 'create_task',
          template: 'Review {{pull_request.html_url}} at {{comment.path}}: {{comment.body}}',
          repository: '{{repository.clone_url}}',
        },
      },
    ];

    beforeAll(async () => {
      webhook = await createWebhook({
        provider: 'github',
        name: 'examples',
        commands,
        apiUrl: fake.githubApiUrl,
        credentials: { token: 'ghp_configuredtoken01234' },
      });
    });

    it.each([
      [
        'issues',
        'labeled',
        'triage',
        (e: Example) =>
          `Triage #${e.issue.number} "${e.issue.title}" of ${e.repository.full_name} for ${e.sender.login}`,
      ],
      [
        'issue_comment',
        'created',
        'answer',
        (e: Example) => `On "${e.issue.title}", ${e.comment.user.login} wrote: ${e.comment.body}`,
      ],
      [
        'pull_request_review_comment',
        'created',
        'review',
        (e: Example) => `Review ${e.pull_request.html_url} at ${e.comment.path}: ${e.comment.body}`,
      ],
    ] as const)(
      'should turn %s.%s into the task its command renders',
      async (event, action, command, prompt) => {
        const payload = githubExample(event, action);
        const example = payload as unknown as Example;
        const sent = await sendGitHub(stack, webhook.path, { event, payload, secret: webhook.secret });
        expect(sent).toMatchObject({ status: 202, body: { status: 'queued' } });
        const delivery = await settled(deliveryIdOf(sent.body));
        expect(delivery).toMatchObject({
          status: 'task_created',
          command,
          provider: 'github',
          webhook: webhook.id,
          event,
        });
        const task = await getTask(stack, delivery.taskId!);
        expect(task).toMatchObject({
          prompt: prompt(example),
          repository: example.repository.clone_url,
          profile: 'default',
          project: 'default',
          priority: command === 'triage' ? 'high' : 'normal',
          conversationId: delivery.conversationId,
        });
      },
    );

    it('should answer where the delivery came from once the task ends, with the configured token', async () => {
      const payload = githubExample('pull_request_review_comment', 'created') as unknown as Example;
      // A comment of its own, so the answer to the earlier review task is not mistaken for this one.
      payload.comment.id = 900_001;
      const answered = nextCall((call) =>
        call.path.includes(`/pulls/${payload.pull_request.number}/comments/${payload.comment.id}/replies`),
      );
      const sent = await sendGitHub(stack, webhook.path, {
        event: 'pull_request_review_comment',
        payload,
        secret: webhook.secret,
      });
      const delivery = await settled(deliveryIdOf(sent.body));
      // This machine cannot reach github.com, so the clone fails: the answer says so.
      const task = await finished(delivery.taskId!);
      expect(task.status).toBe('FAILED');
      const call = await answered;
      expect(call.method).toBe('POST');
      expect(call.path).toBe(
        `/repos/${payload.repository.owner.login}/${payload.repository.name}/pulls/${payload.pull_request.number}/comments/${payload.comment.id}/replies`,
      );
      expect(call.headers.authorization).toBe('token ghp_configuredtoken01234');
      const body = (call.body as { body: string }).body;
      expect(body).toContain(`[\`${task.id}\`](https://hangar.example.com/tasks/${task.id})`);
      expect(body).toContain('failed');
      expect(body).toContain(task.error!);
      expect(await replyOutcome(task.id)).toEqual({ status: 'sent', error: null });
    });

    it('should take a signed delivery whose text holds a NUL character, keeping it as U+FFFD', async () => {
      const payload = githubExample('issues', 'labeled') as unknown as Example;
      const mark = randomUUID();
      payload.issue.title = `Nul \u0000 inside ${mark}`;
      const sent = await sendGitHub(stack, webhook.path, {
        event: 'issues',
        payload,
        secret: webhook.secret,
      });
      expect(sent).toMatchObject({ status: 202, body: { status: 'queued' } });
      const delivery = await settled(deliveryIdOf(sent.body));
      expect(delivery.status).toBe('task_created');
      const task = await getTask(stack, delivery.taskId!);
      expect(task.prompt).toContain(`Nul \uFFFD inside ${mark}`);
    });

    it('should make one task of the same delivery sent twice', async () => {
      const payload = githubExample('issues', 'labeled') as unknown as Example;
      // A body of its own: the same body as an earlier test's would be a replay of that one.
      payload.issue.title = `Twice ${randomUUID()}`;
      const id = randomUUID();
      const first = await sendGitHub(stack, webhook.path, {
        event: 'issues',
        payload,
        secret: webhook.secret,
        delivery: id,
      });
      await settled(deliveryIdOf(first.body));
      const tasks = await countTasks(stack);
      const again = await sendGitHub(stack, webhook.path, {
        event: 'issues',
        payload,
        secret: webhook.secret,
        delivery: id,
      });
      expect(again).toEqual({
        status: 200,
        body: { status: 'duplicate', delivery: deliveryIdOf(first.body) },
      });
      expect(await countTasks(stack)).toBe(tasks);
      const delivery = (await request(stack, 'GET', `/api/v1/webhook-deliveries/${deliveryIdOf(first.body)}`))
        .body as WebhookDelivery;
      expect(delivery).toMatchObject({ duplicates: 1, deliveryId: id });
    });

    it('should take the same signed body under a new delivery id for a replay, and start no second task', async () => {
      const payload = githubExample('issue_comment', 'created') as unknown as Example;
      payload.comment.body = `captured ${randomUUID()}`;
      const first = await sendGitHub(stack, webhook.path, {
        event: 'issue_comment',
        payload,
        secret: webhook.secret,
      });
      expect((await settled(deliveryIdOf(first.body))).status).toBe('task_created');
      const tasks = await countTasks(stack);
      // An attacker who captured the delivery cannot sign another body, but can change the id header.
      for (const replayed of [randomUUID(), randomUUID()]) {
        const again = await sendGitHub(stack, webhook.path, {
          event: 'issue_comment',
          payload,
          secret: webhook.secret,
          delivery: replayed,
        });
        expect(again).toEqual({
          status: 200,
          body: { status: 'duplicate', delivery: deliveryIdOf(first.body) },
        });
      }
      expect(await countTasks(stack)).toBe(tasks);
      const original = (await request(stack, 'GET', `/api/v1/webhook-deliveries/${deliveryIdOf(first.body)}`))
        .body as WebhookDelivery;
      expect(original.duplicates).toBe(2);
    });

    it('should log a delivery no command matches, with the reason', async () => {
      const payload = githubExample('issue_comment', 'deleted');
      const sent = await sendGitHub(stack, webhook.path, {
        event: 'issue_comment',
        payload,
        secret: webhook.secret,
      });
      const delivery = await settled(deliveryIdOf(sent.body));
      expect(delivery).toMatchObject({ status: 'ignored', taskId: null });
      expect(delivery.reason).toMatch(/^no command matched issue_comment\.deleted/);
      // Processed again on request (after changing the commands, say): still nothing to do.
      const again = await request(stack, 'POST', `/api/v1/webhook-deliveries/${delivery.id}/redeliver`);
      expect(again.status).toBe(202);
      expect((await settled(delivery.id)).status).toBe('ignored');
    });
  });

  describe('the static GitHub receiver', () => {
    it('should start a task from an "@hangar …" comment with the built-in command, on the issue’s repository', async () => {
      const payload = githubExample('issue_comment', 'created') as unknown as Example;
      payload.comment.body = 'Thanks!\n@hangar fix the spelling in the README';
      const answered = nextCall(
        (call) =>
          call.path === `/repos/Codertocat/Hello-World/issues/${payload.issue.number}/comments` &&
          call.headers.authorization === `token ${CREDENTIALS.githubToken}`,
      );
      const sent = await sendGitHub(stack, '/webhooks/github', {
        event: 'issue_comment',
        payload,
        secret: SECRETS.github,
      });
      expect(sent.status).toBe(202);
      const delivery = await settled(deliveryIdOf(sent.body));
      expect(delivery).toMatchObject({ status: 'task_created', webhook: null, project: 'default' });
      const task = await getTask(stack, delivery.taskId!);
      expect(task.prompt).toBe(
        `fix the spelling in the README\n\n(Asked by ${payload.sender.login} on ${payload.repository.full_name}, in "${payload.issue.title}".)`,
      );
      expect(task.repository).toBe(payload.repository.clone_url);
      const call = await answered;
      expect(call.headers.authorization).toBe(`token ${CREDENTIALS.githubToken}`);
      expect((call.body as { body: string }).body).toContain(task.id);
      expect(await replyOutcome(task.id)).toEqual({ status: 'sent', error: null });
    });

    it('should act for no one outside the repository, and say so on the issue', async () => {
      const tasks = await countTasks(stack);
      const payload = githubExample('issue_comment', 'created') as unknown as Example & {
        comment: { author_association: string };
      };
      payload.comment.body = '@hangar print the deploy keys';
      payload.comment.user.login = 'mallory';
      payload.comment.author_association = 'NONE';
      const answered = nextCall(
        (call) =>
          call.path === `/repos/Codertocat/Hello-World/issues/${payload.issue.number}/comments` &&
          (call.body as { body: string }).body.includes('@mallory'),
      );
      const sent = await sendGitHub(stack, '/webhooks/github', {
        event: 'issue_comment',
        payload,
        secret: SECRETS.github,
      });
      const delivery = await settled(deliveryIdOf(sent.body));
      expect(delivery).toMatchObject({ status: 'ignored', taskId: null });
      expect(delivery.reason).toBe(
        'not acted on: @mallory is NONE on the repository; this receiver acts for OWNER, MEMBER, COLLABORATOR; told them on GitHub',
      );
      const call = await answered;
      expect(call.headers.authorization).toBe(`token ${CREDENTIALS.githubToken}`);
      expect((call.body as { body: string }).body).toContain('Hangar started nothing');
      expect(await countTasks(stack)).toBe(tasks);
    });

    it('should refuse a wrong or missing signature with 401 and keep only the rejected delivery', async () => {
      const before = await countTasks(stack);
      const rowsBefore = Number((await db.query('SELECT count(*) FROM webhook_deliveries')).rows[0].count);
      const payload = githubExample('issue_comment', 'created');
      const wrong = await sendGitHub(stack, '/webhooks/github', {
        event: 'issue_comment',
        payload,
        secret: 'not-the-secret',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({
        code: 'INVALID_SIGNATURE',
        detail: expect.stringContaining('X-Hub-Signature-256 does not match'),
      });
      const missing = await sendGitHub(stack, '/webhooks/github', {
        event: 'issue_comment',
        payload,
        secret: SECRETS.github,
        signature: null,
      });
      expect(missing.status).toBe(401);
      expect((missing.body as { detail: string }).detail).toContain('missing X-Hub-Signature-256');
      expect(await countTasks(stack)).toBe(before);
      const rows = await db.query(
        'SELECT status, reason, payload, delivery_id FROM webhook_deliveries ORDER BY received_at DESC LIMIT 2',
      );
      expect(Number((await db.query('SELECT count(*) FROM webhook_deliveries')).rows[0].count)).toBe(
        rowsBefore + 2,
      );
      for (const row of rows.rows) {
        expect(row).toMatchObject({ status: 'rejected', payload: null });
        expect(row.delivery_id).toMatch(/^rejected:/);
      }
      const listed = (
        await request(stack, 'GET', '/api/v1/webhook-deliveries?webhook=static&status=rejected')
      ).body as DeliveryPage;
      expect(listed.items[0]).toMatchObject({ status: 'rejected', deliveryId: null, payload: null });
    });

    it('should answer 404 for a provider it does not know and a configuration that does not exist', async () => {
      const payload = githubExample('issue_comment', 'created');
      expect((await sendGitHub(stack, '/webhooks/gitlab', { event: 'x', payload, secret: 's' })).status).toBe(
        404,
      );
      const absent = await sendGitHub(stack, '/webhooks/github/nope', { event: 'x', payload, secret: 's' });
      expect(absent.status).toBe(404);
      expect(absent.body).toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
    });
  });

  describe('conversations on a thread', () => {
    it('should continue the first task’s conversation when another comment comes on the same issue', async () => {
      const webhook = await createWebhook({
        provider: 'github',
        name: 'local repository',
        apiUrl: fake.githubApiUrl,
        credentials: { token: 'ghp_threadtoken012345' },
        commands: [
          {
            name: '*',
            events: ['issue_comment.created'],
            trigger: { type: 'mention' },
            action: { type: 'create_task', template: '{{hangar.args}}', repository, scenario: 'remember' },
          },
        ],
      });
      const comment = (body: string) => {
        const payload = githubExample('issue_comment', 'created') as unknown as Example;
        payload.comment.body = body;
        payload.comment.id += Math.floor(Math.random() * 1000);
        return sendGitHub(stack, webhook.path, { event: 'issue_comment', payload, secret: webhook.secret });
      };
      const firstAnswer = nextCall((call) => call.headers.authorization === 'token ghp_threadtoken012345');
      const first = await settled(deliveryIdOf((await comment('@hangar remember a word for me')).body));
      const firstTask = await finished(first.taskId!);
      expect(firstTask.status).toBe('COMPLETED');
      expect(firstTask.result).toContain('PAPAYA');
      expect(((await firstAnswer).body as { body: string }).body).toContain('The secret word is PAPAYA.');

      const secondAnswer = nextCall((call) => call.headers.authorization === 'token ghp_threadtoken012345');
      const second = await settled(deliveryIdOf((await comment('@hangar what was the word?')).body));
      expect(second).toMatchObject({
        status: 'task_created',
        conversationId: first.conversationId,
        reason: 'continues the thread',
      });
      const secondTask = await finished(second.taskId!);
      expect(secondTask).toMatchObject({
        status: 'COMPLETED',
        conversationId: first.conversationId,
        prompt: 'what was the word?',
      });
      // The agent resumed its session: it quotes what it said in the first turn.
      expect(secondTask.result).toContain('Earlier I said: "The secret word is PAPAYA."');
      expect(((await secondAnswer).body as { body: string }).body).toContain('Earlier I said');
    });
  });

  describe('Slack', () => {
    it('should answer the URL verification challenge', async () => {
      const sent = await sendSlack(stack, '/webhooks/slack', {
        body: JSON.stringify({ type: 'url_verification', token: 'x', challenge: 'c-3po' }),
        secret: SECRETS.slack,
      });
      expect(sent).toEqual({ status: 200, body: { challenge: 'c-3po' } });
    });

    it('should refuse a request whose timestamp is older than five minutes, keeping only the rejected delivery', async () => {
      const tasksBefore = await countTasks(stack);
      const rowsBefore = Number((await db.query('SELECT count(*) FROM webhook_deliveries')).rows[0].count);
      // A slash command correctly signed, five minutes and a second late: a replay.
      const form = new URLSearchParams({
        team_id: 'T0001',
        channel_id: 'C2147483705',
        user_id: 'U2147483697',
        command: '/hangar',
        text: 'replayed command',
        response_url: fake.slackResponseUrl(randomUUID()),
      }).toString();
      const sent = await sendSlack(stack, '/webhooks/slack', {
        body: form,
        form: true,
        secret: SECRETS.slack,
        timestamp: Math.floor(Date.now() / 1000) - 301,
      });
      expect(sent.status).toBe(401);
      expect((sent.body as { detail: string }).detail).toContain('older than 5 minutes');
      expect(await countTasks(stack)).toBe(tasksBefore);
      const rows = await db.query(
        'SELECT status, payload, delivery_id FROM webhook_deliveries ORDER BY received_at DESC LIMIT 1',
      );
      expect(Number((await db.query('SELECT count(*) FROM webhook_deliveries')).rows[0].count)).toBe(
        rowsBefore + 1,
      );
      expect(rows.rows[0]).toMatchObject({ status: 'rejected', payload: null });
    });

    it('should run a /hangar slash command and post the result to its response_url', async () => {
      const responseUrl = fake.slackResponseUrl(randomUUID());
      const answered = nextCall((call) => responseUrl.endsWith(call.path));
      const form = new URLSearchParams({
        token: 'legacy',
        team_id: 'T0001',
        channel_id: 'C2147483705',
        user_id: 'U2147483697',
        user_name: 'steve',
        command: '/hangar',
        text: 'write a haiku about queues',
        response_url: responseUrl,
        trigger_id: `13345224609.${Date.now()}`,
      }).toString();
      const sent = await sendSlack(stack, '/webhooks/slack', {
        body: form,
        form: true,
        secret: SECRETS.slack,
      });
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({
        response_type: 'ephemeral',
        text: expect.stringContaining('Hangar is on it'),
      });
      const deliveries = (await request(stack, 'GET', '/api/v1/webhook-deliveries?provider=slack&limit=1'))
        .body as DeliveryPage;
      const delivery = await settled(deliveries.items[0]!.id);
      expect(delivery).toMatchObject({ status: 'task_created', event: 'slash_command' });
      const task = await finished(delivery.taskId!);
      expect(task).toMatchObject({ status: 'COMPLETED', prompt: 'write a haiku about queues' });
      const call = await answered;
      expect(call.method).toBe('POST');
      expect(call.body).toMatchObject({
        response_type: 'in_channel',
        text: expect.stringContaining(task.result!),
      });
    });

    it('should answer an app mention in its thread and continue that thread’s conversation', async () => {
      const mention = (text: string, ts: string, threadTs?: string) =>
        JSON.stringify({
          token: 'x',
          team_id: 'T0001',
          api_app_id: 'A0001',
          type: 'event_callback',
          event_id: `Ev${randomUUID().replace(/-/g, '').slice(0, 10)}`,
          event_time: Math.floor(Date.now() / 1000),
          event: {
            type: 'app_mention',
            user: 'U061F7AUR',
            text,
            ts,
            channel: 'C0LAN2Q65',
            event_ts: ts,
            ...(threadTs ? { thread_ts: threadTs } : {}),
          },
        });
      const posted = nextCall((call) => call.path === '/api/chat.postMessage');
      const first = await sendSlack(stack, '/webhooks/slack', {
        body: mention('<@U0LAN0Z89> is the build green?', '1515449522.000016'),
        secret: SECRETS.slack,
      });
      expect(first.status).toBe(200);
      const firstDelivery = await settled(deliveryIdOf(first.body));
      expect(firstDelivery).toMatchObject({ status: 'task_created', event: 'app_mention' });
      const firstTask = await finished(firstDelivery.taskId!);
      expect(firstTask.prompt).toBe('is the build green?');
      const call = await posted;
      expect(call.headers.authorization).toBe(`Bearer ${CREDENTIALS.slackBotToken}`);
      expect(call.body).toMatchObject({ channel: 'C0LAN2Q65', thread_ts: '1515449522.000016' });
      expect((call.body as { text: string }).text).toContain(firstTask.id);

      const reply = await sendSlack(stack, '/webhooks/slack', {
        body: mention('<@U0LAN0Z89> and the tests?', '1515449600.000020', '1515449522.000016'),
        secret: SECRETS.slack,
      });
      const replyDelivery = await settled(deliveryIdOf(reply.body));
      expect(replyDelivery.conversationId).toBe(firstDelivery.conversationId);
      await finished(replyDelivery.taskId!);
    });
  });

  describe('Jira and Sentry', () => {
    it('should start a task from an "@hangar" Jira comment, answer with a Jira comment, and not answer that one', async () => {
      const answered = nextCall((call) => call.path === '/rest/api/3/issue/PROJ-7/comment');
      const sent = await sendJira(stack, '/webhooks/jira', {
        secret: SECRETS.jira,
        payload: {
          timestamp: Date.now(),
          webhookEvent: 'comment_created',
          comment: { id: '10001', body: '@hangar summarise the bug', author: { displayName: 'Ada' } },
          issue: { id: '10042', key: 'PROJ-7', fields: { summary: 'Login fails on Safari' } },
        },
      });
      expect(sent.status).toBe(202);
      const delivery = await settled(deliveryIdOf(sent.body));
      const task = await finished(delivery.taskId!);
      expect(task.prompt).toBe('summarise the bug\n\n(On Jira issue PROJ-7: "Login fails on Safari".)');
      const call = await answered;
      expect(call.method).toBe('POST');
      expect(call.headers.authorization).toBe(
        `Basic ${Buffer.from(`${CREDENTIALS.jiraEmail}:${CREDENTIALS.jiraApiToken}`).toString('base64')}`,
      );
      expect(JSON.stringify(call.body)).toContain(task.id);
      expect(await replyOutcome(task.id)).toEqual({ status: 'sent', error: null });

      // Jira tells Hangar of its own comment too. Had the agent quoted the request in its answer,
      // that comment would ask "@hangar …" again: it must start nothing.
      const posted = (call.body as { body: { content: unknown[] } }).body;
      const quoting = {
        ...posted,
        content: [
          ...posted.content,
          { type: 'paragraph', content: [{ type: 'text', text: '@hangar summarise the bug' }] },
        ],
      };
      const tasks = await countTasks(stack);
      const echo = await sendJira(stack, '/webhooks/jira', {
        secret: SECRETS.jira,
        payload: {
          timestamp: Date.now(),
          webhookEvent: 'comment_created',
          comment: { id: '10002', body: quoting, author: { displayName: 'Hangar' } },
          issue: { id: '10042', key: 'PROJ-7', fields: { summary: 'Login fails on Safari' } },
        },
      });
      expect(await settled(deliveryIdOf(echo.body))).toMatchObject({
        status: 'ignored',
        reason: "Hangar's own reply",
      });
      expect(await countTasks(stack)).toBe(tasks);
    });

    it('should give a new Sentry event of the same issue to the same conversation', async () => {
      const alert = (title: string) =>
        sendSentry(stack, '/webhooks/sentry', {
          resource: 'event_alert',
          secret: SECRETS.sentry,
          payload: {
            action: 'triggered',
            installation: { uuid: 'a8e5d37a-696c-4c54-adb5-b3f28d64c7de' },
            data: {
              event: {
                event_id: randomUUID(),
                issue_id: '1117540176',
                title,
                web_url: 'https://sentry.io/x',
              },
              triggered_rule: 'Send to Hangar',
            },
          },
        });
      const first = await settled(
        deliveryIdOf((await alert("TypeError: Cannot read 'id' of undefined")).body),
      );
      expect(first.status).toBe('task_created');
      const firstTask = await getTask(stack, first.taskId!);
      expect(firstTask.prompt).toContain("TypeError: Cannot read 'id' of undefined");
      await finished(first.taskId!);
      const second = await settled(
        deliveryIdOf((await alert("TypeError: Cannot read 'id' of undefined")).body),
      );
      expect(second.conversationId).toBe(first.conversationId);
    });
  });

  describe('workflows', () => {
    it('should start a workflow run from a signed comment, with its inputs rendered from the payload', async () => {
      const created = await request(stack, 'POST', '/api/v1/workflows', {
        name: 'webhook-triage',
        inputs: { issue: { type: 'number' }, ask: { type: 'string' }, repository: { type: 'string' } },
        steps: [
          {
            id: 'triage',
            prompt: 'Triage #{{inputs.issue}} of {{inputs.repository}}: {{inputs.ask}}',
            scenario: 'reply',
          },
        ],
      });
      expect(created.status).toBe(201);
      const workflowId = (created.body as { id: string }).id;
      const command = (action: Record<string, unknown>) => ({
        provider: 'github',
        name: 'workflows',
        commands: [
          { name: 'triage', trigger: { type: 'mention' }, action: { type: 'start_workflow', ...action } },
        ],
      });
      const inputs = {
        issue: '{{issue.number}}',
        ask: '{{hangar.args}}',
        repository: '{{repository.full_name}}',
      };

      // Refused when saved: a workflow the project does not have, an input it does not take, a
      // template that does not parse.
      for (const [action, field] of [
        [{ workflow: 'no-such-flow', inputs }, 'commands.0.action.workflow'],
        [
          { workflow: 'webhook-triage', inputs: { ...inputs, colour: 'blue' } },
          'commands.0.action.inputs.colour',
        ],
        [
          { workflow: 'webhook-triage', inputs: { issue: '{{issue.number}}' } },
          'commands.0.action.inputs.ask',
        ],
        [
          { workflow: 'webhook-triage', inputs: { ...inputs, ask: '{{#if x}}' } },
          'commands.0.action.inputs.ask',
        ],
      ] as const) {
        const refused = await request(stack, 'POST', '/api/v1/webhooks', command(action));
        expect({ field, status: refused.status }).toEqual({ field, status: 400 });
        expect(refused.body).toMatchObject({ errors: [{ field }] });
      }

      const webhook = await createWebhook(command({ workflow: 'webhook-triage', inputs }));
      const payload = githubExample('issue_comment', 'created') as unknown as Example;
      payload.comment.body = `@hangar triage the crash on start ${randomUUID()}`;
      const sent = await sendGitHub(stack, webhook.path, {
        event: 'issue_comment',
        payload,
        secret: webhook.secret,
      });
      expect(sent).toMatchObject({ status: 202, body: { status: 'queued' } });
      const delivery = await settled(deliveryIdOf(sent.body));
      expect(delivery).toMatchObject({ status: 'workflow_started', command: 'triage', taskId: null });
      // webhook_deliveries has no column for a run: the reason names it.
      const runId = /^workflow run (\S+) \(webhook-triage v1\)$/.exec(delivery.reason ?? '')?.[1];
      expect(runId).toBeDefined();
      const run = (await request(stack, 'GET', `/api/v1/workflow-runs/${runId}`)).body as WorkflowRun;
      expect(run).toMatchObject({
        workflowId,
        workflow: 'webhook-triage',
        createdBy: 'webhook:workflows',
        inputs: {
          issue: payload.issue.number,
          ask: payload.comment.body.replace('@hangar triage ', ''),
          repository: payload.repository.full_name,
        },
      });
      const audit = (await request(stack, 'GET', '/api/v1/audit?action=workflow.start_run&limit=50'))
        .body as AuditPage;
      expect(audit.items).toContainEqual(
        expect.objectContaining({
          actor: expect.objectContaining({ type: 'webhook', label: 'workflows webhook' }),
          target: expect.objectContaining({ type: 'workflow_run', id: runId }),
        }),
      );

      // The workflow archived after the command was saved: the delivery fails, saying why.
      expect((await request(stack, 'DELETE', `/api/v1/workflows/${workflowId}`)).status).toBe(204);
      payload.comment.body = `@hangar triage again ${randomUUID()}`;
      const late = await settled(
        deliveryIdOf(
          (await sendGitHub(stack, webhook.path, { event: 'issue_comment', payload, secret: webhook.secret }))
            .body,
        ),
      );
      expect(late).toMatchObject({
        status: 'failed',
        reason: 'the project has no workflow "webhook-triage" (deleted or renamed?)',
      });
    });
  });

  describe('configurations through the API', () => {
    it('should show the secret once and refuse bad commands, naming the field and storing nothing', async () => {
      const created = await createWebhook({
        provider: 'github',
        name: 'secret once',
        commands: [
          {
            name: 'help',
            trigger: { type: 'mention' },
            action: { type: 'comment', template: 'Hi {{sender.login}}' },
          },
        ],
      });
      expect(created.secret).toMatch(/^[A-Za-z0-9]{40}$/);
      expect(created.path).toBe(`/webhooks/github/${created.id}`);
      const read = (await request(stack, 'GET', `/api/v1/webhooks/${created.id}`)).body as Record<
        string,
        unknown
      >;
      expect(read).not.toHaveProperty('secret');
      expect(JSON.stringify((await request(stack, 'GET', '/api/v1/webhooks')).body)).not.toContain(
        created.secret,
      );

      const badTemplate = await request(stack, 'POST', '/api/v1/webhooks', {
        provider: 'github',
        name: 'bad',
        commands: [
          { name: 'x', trigger: { type: 'mention' }, action: { type: 'create_task', template: '{{#if a}}' } },
        ],
      });
      expect(badTemplate.status).toBe(400);
      expect(badTemplate.body).toMatchObject({
        code: 'INVALID_TEMPLATE',
        errors: [{ field: 'commands.0.action.template' }],
      });
      const badTrigger = await request(stack, 'POST', '/api/v1/webhooks', {
        provider: 'github',
        name: 'bad',
        commands: [{ name: 'x', trigger: { type: 'slash' }, action: { type: 'react', reaction: 'eyes' } }],
      });
      expect(badTrigger.status).toBe(400);
      expect(badTrigger.body).toMatchObject({
        code: 'INVALID_COMMAND',
        errors: [{ field: 'commands.0.trigger.type' }],
      });
      // Not a pattern at all; a backreference and a lookahead, which RE2 cannot run in linear time.
      for (const pattern of ['(', '(a)\\1', 'x(?=y)']) {
        const badCondition = await request(stack, 'POST', '/api/v1/webhooks', {
          provider: 'github',
          name: 'bad',
          commands: [
            {
              name: 'x',
              trigger: { type: 'event' },
              conditions: [{ path: 'comment.body', op: 'matches', value: pattern }],
              action: { type: 'react', reaction: 'eyes' },
            },
          ],
        });
        expect({ pattern, status: badCondition.status }).toEqual({ pattern, status: 400 });
        expect(badCondition.body).toMatchObject({
          code: 'VALIDATION_FAILED',
          errors: [{ field: 'commands.0.conditions.0.value' }],
        });
      }
      expect(
        Number((await db.query("SELECT count(*) FROM webhook_configs WHERE name = 'bad'")).rows[0].count),
      ).toBe(0);
    });

    it('should refuse an apiUrl inside the installation, as typed or resolved, naming the field and storing nothing', async () => {
      const github = (apiUrl: string) =>
        request(stack, 'POST', '/api/v1/webhooks', {
          provider: 'github',
          name: 'inside',
          apiUrl,
          credentials: { token: 'ghp_wouldleak0123456789' },
          commands: [
            { name: 'x', trigger: { type: 'mention' }, action: { type: 'react', reaction: 'eyes' } },
          ],
        });
      const fakePort = new URL(fake.url).port;
      for (const [apiUrl, why] of [
        ['http://169.254.169.254/latest/meta-data/', 'a cloud metadata endpoint'],
        ['http://[fd00:ec2::254]/', 'a cloud metadata endpoint'],
        [`http://127.0.0.1:${Number(fakePort) + 1}/`, 'a loopback address'],
        ['http://2130706433/api/v3', 'a loopback address'],
        ['https://10.0.0.7/api/v3', 'a private address'],
        ['https://localhost/api/v3', 'resolves to'],
      ]) {
        const refused = await github(apiUrl!);
        expect({ apiUrl, status: refused.status }).toEqual({ apiUrl, status: 400 });
        expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'apiUrl' }] });
        expect((refused.body as { detail: string }).detail).toContain(why);
      }
      expect(
        Number((await db.query("SELECT count(*) FROM webhook_configs WHERE name = 'inside'")).rows[0].count),
      ).toBe(0);
    });

    it('should drop the stored credentials when apiUrl changes, unless the change gives them again', async () => {
      const webhook = await createWebhook({
        provider: 'github',
        name: 'moving',
        apiUrl: fake.githubApiUrl,
        credentials: { token: 'ghp_movingtoken0123456' },
        commands: [{ name: 'x', trigger: { type: 'mention' }, action: { type: 'react', reaction: 'eyes' } }],
      });
      expect(webhook.credentials).toEqual(['token']);
      const renamed = await request(stack, 'PATCH', `/api/v1/webhooks/${webhook.id}`, { name: 'moved' });
      expect(renamed.body).toMatchObject({ credentials: ['token'] });
      const moved = await request(stack, 'PATCH', `/api/v1/webhooks/${webhook.id}`, {
        apiUrl: `${fake.githubApiUrl}/elsewhere`,
      });
      expect(moved.body).toMatchObject({ apiUrl: `${fake.githubApiUrl}/elsewhere`, credentials: [] });
      const row = await db.query('SELECT credentials FROM webhook_configs WHERE id = $1', [webhook.id]);
      expect(row.rows[0].credentials).toEqual({});
      const withToken = await request(stack, 'PATCH', `/api/v1/webhooks/${webhook.id}`, {
        apiUrl: fake.githubApiUrl,
        credentials: { token: 'ghp_movingtoken0123456' },
      });
      expect(withToken.body).toMatchObject({ apiUrl: fake.githubApiUrl, credentials: ['token'] });
    });

    it('should send nothing to an apiUrl stored before it was checked, and say why on the delivery', async () => {
      const inside = await new ProviderApisFake({ githubToken: 'ghp_legacytoken0123456' }).start();
      try {
        const webhook = await createWebhook({
          provider: 'github',
          name: 'legacy',
          commands: [
            { name: 'help', trigger: { type: 'mention' }, action: { type: 'comment', template: 'Hi' } },
          ],
        });
        // As a configuration saved before this check would hold it: an internal address.
        await db.query('UPDATE webhook_configs SET api_url = $1, credentials = $2 WHERE id = $3', [
          inside.githubApiUrl,
          { token: 'ghp_legacytoken0123456' },
          webhook.id,
        ]);
        const payload = githubExample('issue_comment', 'created') as unknown as Example;
        payload.comment.body = `@hangar help ${randomUUID()}`;
        const sent = await sendGitHub(stack, webhook.path, {
          event: 'issue_comment',
          payload,
          secret: webhook.secret,
        });
        const delivery = await settled(deliveryIdOf(sent.body), 60_000);
        expect(delivery.status).toBe('failed');
        expect(delivery.reason).toContain(
          `GitHub reply cannot run: apiUrl ${inside.githubApiUrl} is refused`,
        );
        expect(inside.calls).toEqual([]);
      } finally {
        await inside.close();
      }
    });

    it('should keep the author associations a GitHub receiver is given, and refuse others', async () => {
      const commands = [
        { name: 'x', trigger: { type: 'mention' }, action: { type: 'comment', template: 'Hi' } },
      ];
      const unknown = await request(stack, 'POST', '/api/v1/webhooks', {
        provider: 'github',
        name: 'bad',
        commands,
        authorAssociations: ['OWNER', 'ADMIN'],
      });
      expect(unknown.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ field: 'authorAssociations.1' }],
      });
      const slack = await request(stack, 'POST', '/api/v1/webhooks', {
        provider: 'slack',
        name: 'bad',
        commands,
        authorAssociations: ['OWNER'],
      });
      expect(slack.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ field: 'authorAssociations' }],
      });
      const chosen = await createWebhook({
        provider: 'github',
        name: 'contributors',
        commands,
        authorAssociations: ['OWNER', 'CONTRIBUTOR'],
      });
      expect(chosen.authorAssociations).toEqual(['OWNER', 'CONTRIBUTOR']);
    });

    it('should comment and react at once for commands that do not start a task', async () => {
      const webhook = await createWebhook({
        provider: 'github',
        name: 'actions',
        apiUrl: fake.githubApiUrl,
        credentials: { token: 'ghp_actiontoken0123456' },
        commands: [
          {
            name: 'help',
            trigger: { type: 'mention' },
            action: { type: 'comment', template: 'Hi {{sender.login}}: try "@hangar fix …"' },
          },
          { name: 'ack', trigger: { type: 'mention' }, action: { type: 'react', reaction: 'eyes' } },
        ],
      });
      const payload = githubExample('issue_comment', 'created') as unknown as Example;
      const commented = nextCall(
        (call) =>
          call.path.endsWith(`/issues/${payload.issue.number}/comments`) &&
          call.headers.authorization === 'token ghp_actiontoken0123456',
      );
      payload.comment.body = '@hangar help';
      const help = await settled(
        deliveryIdOf(
          (await sendGitHub(stack, webhook.path, { event: 'issue_comment', payload, secret: webhook.secret }))
            .body,
        ),
      );
      expect({ reason: help.reason, status: help.status }).toEqual({ reason: 'comment', status: 'acted' });
      expect(help).toMatchObject({ command: 'help', taskId: null });
      expect((await commented).body).toEqual({ body: `Hi ${payload.sender.login}: try "@hangar fix …"` });

      const reacted = nextCall((call) =>
        call.path.endsWith(`/issues/comments/${payload.comment.id}/reactions`),
      );
      payload.comment.body = '@hangar ack';
      await settled(
        deliveryIdOf(
          (await sendGitHub(stack, webhook.path, { event: 'issue_comment', payload, secret: webhook.secret }))
            .body,
        ),
      );
      expect((await reacted).body).toEqual({ content: 'eyes' });
    });

    it('should record the tasks webhooks start in the audit log, as the webhook', async () => {
      const audit = (await request(stack, 'GET', '/api/v1/audit?action=task.create&limit=200'))
        .body as AuditPage;
      const byWebhooks = audit.items.filter((entry) => entry.actor.type === 'webhook');
      expect(byWebhooks.length).toBeGreaterThanOrEqual(8);
      expect(byWebhooks.map((entry) => entry.actor.label)).toEqual(
        expect.arrayContaining(['github (static) webhook', 'examples webhook']),
      );
      for (const entry of byWebhooks)
        expect(entry).toMatchObject({ project: 'default', target: { type: 'task' } });
    });
  });
});
