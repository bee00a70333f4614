import { readFileSync } from 'node:fs';
import { ProviderRefSchema, TaskSchema, type Task } from '@hangar/contracts';
import { toAdfDocument } from '../src/modules/webhooks/clients/jira.client';
import { githubAdapter } from '../src/modules/webhooks/providers/github.adapter';
import { jiraAdapter } from '../src/modules/webhooks/providers/jira.adapter';
import {
  PROVIDER_ADAPTERS,
  adapterFor,
  parseMention,
} from '../src/modules/webhooks/providers/provider-adapters';
import { sentryAdapter } from '../src/modules/webhooks/providers/sentry.adapter';
import { slackAdapter } from '../src/modules/webhooks/providers/slack.adapter';
import type { InboundEvent, ProviderAdapter } from '../src/modules/webhooks/inbound-event';
import { approvalRequestText, replyText } from '../src/modules/webhooks/reply-text';

type Headers = Record<string, string | string[] | undefined>;
type Payload = Record<string, unknown>;

const OPTIONS = { prefix: '@hangar' };

// What a receiver does with a verified delivery: read the body, name it, normalize it.
function receive(adapter: ProviderAdapter, body: string, headers: Headers, contentType = 'application/json') {
  const payload = adapter.parseBody(Buffer.from(body, 'utf8'), contentType);
  const eventName = adapter.eventName(headers, payload);
  return {
    payload,
    eventName,
    deliveryId: adapter.deliveryId(headers, payload),
    inbound: adapter.normalize(eventName, payload, OPTIONS),
  };
}

// The payloads GitHub publishes in its docs, as packaged by Octokit.
const GITHUB_EXAMPLES = JSON.parse(
  readFileSync(require.resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8'),
) as { name: string; examples: Payload[] }[];

function githubExample(name: string, action: string): Payload {
  const found = GITHUB_EXAMPLES.find((entry) => entry.name === name)?.examples.find(
    (example) => example.action === action,
  );
  if (!found) throw new Error(`no ${name}.${action} example`);
  return structuredClone(found);
}

function receiveGithub(name: string, payload: Payload) {
  return receive(githubAdapter, JSON.stringify(payload), {
    'x-github-event': name,
    'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    'x-hub-signature-256': 'sha256=ignored-here',
  });
}

function withCommentBody(payload: Payload, body: string): Payload {
  return { ...payload, comment: { ...(payload.comment as Payload), body } };
}

describe('githubAdapter', () => {
  it('should normalize an issue comment when one is created', () => {
    const { inbound, deliveryId, eventName, payload } = receiveGithub(
      'issue_comment',
      githubExample('issue_comment', 'created'),
    );
    expect(deliveryId).toBe('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(eventName).toBe('issue_comment');
    expect(inbound).toEqual<InboundEvent>({
      provider: 'github',
      event: 'issue_comment.created',
      mention: undefined,
      fromHangar: false,
      author: { login: 'Codertocat', association: 'OWNER' },
      labelsAdded: [],
      threadKey: 'github:Codertocat/Hello-World#1',
      ref: {
        kind: 'github-issue',
        owner: 'Codertocat',
        repo: 'Hello-World',
        issueNumber: 1,
        commentId: 492700400,
      },
      title: 'Spelling error in the README file',
      repository: 'https://github.com/Codertocat/Hello-World.git',
      payload,
    });
    expect(inbound.payload).not.toHaveProperty('hangar');
  });

  it('should find the mention when the prefix opens a later line of the comment', () => {
    const payload = withCommentBody(
      githubExample('issue_comment', 'created'),
      'Thanks!\n@hangar fix this please',
    );
    expect(receiveGithub('issue_comment', payload).inbound.mention).toEqual({
      word: 'fix',
      args: 'this please',
    });
  });

  it('should not find a mention when the prefix is part of an email address', () => {
    const payload = withCommentBody(
      githubExample('issue_comment', 'created'),
      'Write to me@hangar.io please',
    );
    expect(receiveGithub('issue_comment', payload).inbound.mention).toBeUndefined();
  });

  it('should not find a mention when the comment is edited or deleted', () => {
    for (const action of ['edited', 'deleted']) {
      const payload = withCommentBody(githubExample('issue_comment', action), '@hangar fix this');
      const { inbound } = receiveGithub('issue_comment', payload);
      expect(inbound.event).toBe(`issue_comment.${action}`);
      expect(inbound.mention).toBeUndefined();
    }
  });

  it('should report the label when an issue is labeled', () => {
    const { inbound } = receiveGithub('issues', githubExample('issues', 'labeled'));
    expect(inbound).toMatchObject({
      event: 'issues.labeled',
      labelsAdded: ['bug'],
      threadKey: 'github:Codertocat/Hello-World#1',
      ref: { kind: 'github-issue', owner: 'Codertocat', repo: 'Hello-World', issueNumber: 1 },
      title: 'Spelling error in the README file',
      repository: 'https://github.com/Codertocat/Hello-World.git',
    });
    expect(inbound.ref).not.toHaveProperty('commentId');
    expect(inbound.mention).toBeUndefined();
  });

  it("should name the author of what was written, with their relation to the repository, and nobody's for a label", () => {
    const opened = githubExample('issues', 'opened');
    const outsider = {
      ...opened,
      issue: { ...(opened.issue as Payload), author_association: 'NONE', user: { login: 'mallory' } },
    };
    expect(receiveGithub('issues', outsider).inbound.author).toEqual({
      login: 'mallory',
      association: 'NONE',
    });
    const review = receiveGithub(
      'pull_request_review_comment',
      githubExample('pull_request_review_comment', 'created'),
    );
    expect(review.inbound.author).toEqual({ login: 'Codertocat', association: 'OWNER' });
    // Labelling takes a role in the repository; the issue's author did not do it.
    expect(receiveGithub('issues', githubExample('issues', 'labeled')).inbound.author).toBeUndefined();
    const silent = githubExample('issue_comment', 'created');
    delete (silent.comment as Payload).author_association;
    expect(receiveGithub('issue_comment', silent).inbound.author).toMatchObject({ association: 'NONE' });
  });

  it('should report the label when a pull request is labeled', () => {
    const { inbound } = receiveGithub('pull_request', githubExample('pull_request', 'labeled'));
    expect(inbound).toMatchObject({
      event: 'pull_request.labeled',
      labelsAdded: ['bug'],
      threadKey: 'github:Codertocat/Hello-World#2',
      ref: { kind: 'github-issue', owner: 'Codertocat', repo: 'Hello-World', issueNumber: 2 },
      title: 'Update the README with new information.',
    });
  });

  it('should read the issue body when an issue is opened', () => {
    const opened = githubExample('issues', 'opened');
    const plain = receiveGithub('issues', opened).inbound;
    expect(plain).toMatchObject({
      event: 'issues.opened',
      labelsAdded: [],
      threadKey: 'github:Codertocat/Hello-World#1',
      ref: { kind: 'github-issue', owner: 'Codertocat', repo: 'Hello-World', issueNumber: 1 },
      title: 'Spelling error in the README file',
      repository: 'https://github.com/Codertocat/Hello-World.git',
    });
    expect(plain.mention).toBeUndefined();

    const asking = {
      ...opened,
      issue: { ...(opened.issue as Payload), body: '@Hangar Triage\nsee the logs' },
    };
    expect(receiveGithub('issues', asking).inbound.mention).toEqual({ word: 'triage', args: 'see the logs' });
  });

  it('should answer on the review thread when a review comment is created', () => {
    const example = githubExample('pull_request_review_comment', 'created');
    const { inbound } = receiveGithub('pull_request_review_comment', example);
    expect(inbound).toMatchObject({
      event: 'pull_request_review_comment.created',
      labelsAdded: [],
      threadKey: 'github:Codertocat/Hello-World#2',
      ref: {
        kind: 'github-review-comment',
        owner: 'Codertocat',
        repo: 'Hello-World',
        pullNumber: 2,
        commentId: 284312630,
      },
      title: 'Update the README with new information.',
      repository: 'https://github.com/Codertocat/Hello-World.git',
    });
    const asking = withCommentBody(example, 'nit: @hangar rename this variable');
    expect(receiveGithub('pull_request_review_comment', asking).inbound.mention).toEqual({
      word: 'rename',
      args: 'this variable',
    });
  });

  it('should read every published example without throwing when the event is one it does not know', () => {
    for (const { name, examples } of GITHUB_EXAMPLES) {
      for (const example of examples) {
        const inbound = githubAdapter.normalize(name, example, OPTIONS);
        expect(inbound.event.startsWith(name)).toBe(true);
        if (inbound.ref) expect(ProviderRefSchema.safeParse(inbound.ref).success).toBe(true);
      }
    }
  });

  it('should refuse the body clearly when it is not JSON', () => {
    expect(() =>
      githubAdapter.parseBody(Buffer.from('payload=%7B%7D'), 'application/x-www-form-urlencoded'),
    ).toThrow(/^the GitHub delivery body is not JSON/);
    expect(() => githubAdapter.parseBody(Buffer.from('[1,2]'), 'application/json')).toThrow(
      'the GitHub delivery body is JSON but not an object',
    );
  });
});

// From Slack's Events API docs (app_mention), with the app's user named first.
const SLACK_APP_MENTION = {
  token: 'ZZZZZZWSxiZZZ2yIvs3peJ',
  team_id: 'T123ABC456',
  api_app_id: 'A123ABC456',
  event: {
    type: 'app_mention',
    user: 'U123ABC456',
    text: '<@U0LAN0Z89> fix the build &amp; rerun <#C123ABC456>',
    ts: '1515449522.000016',
    channel: 'C123ABC456',
    event_ts: '1515449522.000016',
  },
  type: 'event_callback',
  event_id: 'Ev123ABC456',
  event_time: 1515449522,
  authorizations: [{ enterprise_id: null, team_id: 'T123ABC456', user_id: 'U0LAN0Z89', is_bot: true }],
  authed_users: ['U0LAN0Z89'],
};

function slackEvent(event: Payload): Payload {
  return { ...SLACK_APP_MENTION, event: { ...SLACK_APP_MENTION.event, ...event } };
}

// From Slack's slash command docs, as the form body arrives.
const SLACK_SLASH_BODY = [
  'token=gIkuvaNzQIHg97ATvDxqgjtO',
  'team_id=T0001',
  'team_domain=example',
  'enterprise_id=E0001',
  'enterprise_name=Globular%20Construct%20Inc',
  'channel_id=C2147483705',
  'channel_name=test',
  'user_id=U2147483697',
  'user_name=Steve',
  'command=%2Fhangar',
  'text=+fix+the+flaky+test%0Ain+ci+',
  'response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678',
  'trigger_id=13345224609.738474920.8088930838d88f008e0',
  'api_app_id=A123456',
].join('&');

const SLACK_HEADERS = { 'x-slack-request-timestamp': '1531420618', 'x-slack-signature': 'v0=ignored-here' };

describe('slackAdapter', () => {
  it('should read the words after the app mention when the app is mentioned', () => {
    const { inbound, deliveryId, eventName, payload } = receive(
      slackAdapter,
      JSON.stringify(SLACK_APP_MENTION),
      SLACK_HEADERS,
    );
    expect(deliveryId).toBe('Ev123ABC456');
    expect(eventName).toBe('app_mention');
    expect(inbound).toEqual<InboundEvent>({
      provider: 'slack',
      event: 'app_mention',
      mention: { word: 'fix', args: 'the build & rerun <#C123ABC456>' },
      labelsAdded: [],
      threadKey: 'slack:T123ABC456/C123ABC456/1515449522.000016',
      ref: {
        kind: 'slack-message',
        channel: 'C123ABC456',
        ts: '1515449522.000016',
        threadTs: '1515449522.000016',
      },
      payload,
    });
  });

  it('should keep the thread when the mention is a reply in one', () => {
    const { inbound } = receive(
      slackAdapter,
      JSON.stringify(slackEvent({ ts: '1515449600.000200', thread_ts: '1515449522.000016' })),
      SLACK_HEADERS,
    );
    expect(inbound.threadKey).toBe('slack:T123ABC456/C123ABC456/1515449522.000016');
    expect(inbound.ref).toEqual({
      kind: 'slack-message',
      channel: 'C123ABC456',
      ts: '1515449600.000200',
      threadTs: '1515449522.000016',
    });
  });

  it('should read what follows the app when it is named mid-sentence', () => {
    const payload = slackEvent({ text: 'Thanks! <@U0LAN0Z89> fix this\nplease' });
    expect(slackAdapter.normalize('app_mention', payload, OPTIONS).mention).toEqual({
      word: 'fix',
      args: 'this\nplease',
    });
  });

  it('should see no mention when a bot wrote the message', () => {
    const payload = slackEvent({ bot_id: 'B0LAN0Z89' });
    const inbound = slackAdapter.normalize('app_mention', payload, OPTIONS);
    expect(inbound.mention).toBeUndefined();
    expect(inbound.threadKey).toBe('slack:T123ABC456/C123ABC456/1515449522.000016');
  });

  it('should see a mention in a plain message only when it names the app first', () => {
    const named = slackEvent({
      type: 'message',
      text: '<@U0LAN0Z89> deploy staging',
      thread_ts: '1515449000.000001',
    });
    expect(slackAdapter.eventName({}, named)).toBe('message');
    expect(slackAdapter.normalize('message', named, OPTIONS)).toMatchObject({
      event: 'message',
      mention: { word: 'deploy', args: 'staging' },
      threadKey: 'slack:T123ABC456/C123ABC456/1515449000.000001',
    });

    const colleague = slackEvent({ type: 'message', text: '<@U999OTHER> deploy staging' });
    const plain = slackEvent({ type: 'message', text: 'deploy staging, <@U0LAN0Z89>' });
    for (const payload of [colleague, plain]) {
      const inbound = slackAdapter.normalize('message', payload, OPTIONS);
      expect(inbound.mention).toBeUndefined();
      expect(inbound.ref).toMatchObject({ kind: 'slack-message', channel: 'C123ABC456' });
    }
  });

  it('should read a slash command when it arrives as a form', () => {
    const { inbound, deliveryId, eventName, payload } = receive(
      slackAdapter,
      SLACK_SLASH_BODY,
      SLACK_HEADERS,
      'application/x-www-form-urlencoded; charset=utf-8',
    );
    expect(payload).toMatchObject({
      command: '/hangar',
      team_id: 'T0001',
      enterprise_name: 'Globular Construct Inc',
    });
    expect(deliveryId).toBe('13345224609.738474920.8088930838d88f008e0');
    expect(eventName).toBe('slash_command');
    expect(inbound).toEqual<InboundEvent>({
      provider: 'slack',
      event: 'slash_command',
      labelsAdded: [],
      slash: { command: 'hangar', args: 'fix the flaky test\nin ci' },
      ref: {
        kind: 'slack-command',
        responseUrl: 'https://hooks.slack.com/commands/1234/5678',
        channel: 'C2147483705',
      },
      payload,
    });
    expect(inbound.threadKey).toBeUndefined();
  });

  it('should read the JSON in the payload field when an interaction arrives', () => {
    const interaction = {
      type: 'block_actions',
      trigger_id: '12466734323.1395872398',
      actions: [{ action_id: 'retry' }],
    };
    const body = `payload=${encodeURIComponent(JSON.stringify(interaction))}`;
    const { payload, eventName, deliveryId, inbound } = receive(
      slackAdapter,
      body,
      {},
      'application/x-www-form-urlencoded',
    );
    expect(payload).toEqual(interaction);
    expect(eventName).toBe('block_actions');
    expect(deliveryId).toBe('12466734323.1395872398');
    expect(inbound).toEqual({ provider: 'slack', event: 'block_actions', labelsAdded: [], payload });
  });

  it('should only name the event when Slack verifies the URL', () => {
    const body = JSON.stringify({
      token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    const { inbound, payload, deliveryId } = receive(slackAdapter, body, {});
    expect(deliveryId).toBeUndefined();
    expect(inbound).toEqual({ provider: 'slack', event: 'url_verification', labelsAdded: [], payload });
  });

  it('should refuse the body clearly when it is neither JSON nor a form', () => {
    expect(() => slackAdapter.parseBody(Buffer.from('<xml/>'), 'application/json')).toThrow(
      /^the Slack delivery body is not JSON/,
    );
    expect(() =>
      slackAdapter.parseBody(Buffer.from('payload=oops'), 'application/x-www-form-urlencoded'),
    ).toThrow(/^the Slack payload form field is not JSON/);
  });
});

// Shaped as in Atlassian's webhook docs for Jira Cloud.
const JIRA_ISSUE = {
  id: '10002',
  self: 'https://your-domain.atlassian.net/rest/api/2/issue/10002',
  key: 'HANG-42',
  fields: {
    summary: 'Build fails on Node 20',
    issuetype: { id: '10001', name: 'Bug' },
    project: { id: '10000', key: 'HANG', name: 'Hangar' },
    status: { id: '3', name: 'In Progress' },
    labels: ['backend', 'hangar'],
    description: 'The build fails since the upgrade.',
  },
};

const JIRA_USER = {
  self: 'https://your-domain.atlassian.net/rest/api/2/user?accountId=5b10a2844c20165700ede21g',
  accountId: '5b10a2844c20165700ede21g',
  displayName: 'Mia Krystof',
  active: true,
};

function jiraIssueUpdated(items: Payload[]): Payload {
  return {
    timestamp: 1717243200000,
    webhookEvent: 'jira:issue_updated',
    issue_event_type_name: 'issue_generic',
    user: JIRA_USER,
    issue: JIRA_ISSUE,
    changelog: { id: '10100', items },
  };
}

const JIRA_HEADERS = {
  'x-atlassian-webhook-identifier': '2c0e0c5e-9d1e-4c6a-8a63-8b8e5b3f0a11',
  'x-hub-signature': 'sha256=ignored-here',
};

describe('jiraAdapter', () => {
  it('should report the new status when an issue moves', () => {
    const body = JSON.stringify(
      jiraIssueUpdated([
        {
          field: 'status',
          fieldtype: 'jira',
          fieldId: 'status',
          from: '10000',
          fromString: 'To Do',
          to: '3',
          toString: 'In Progress',
        },
      ]),
    );
    const { inbound, deliveryId, eventName, payload } = receive(jiraAdapter, body, JIRA_HEADERS);
    expect(deliveryId).toBe('2c0e0c5e-9d1e-4c6a-8a63-8b8e5b3f0a11');
    expect(eventName).toBe('jira:issue_updated');
    expect(inbound).toEqual<InboundEvent>({
      provider: 'jira',
      event: 'jira:issue_updated',
      mention: undefined,
      fromHangar: false,
      labelsAdded: [],
      statusTo: 'In Progress',
      threadKey: 'jira:HANG-42',
      ref: { kind: 'jira-issue', issueKey: 'HANG-42' },
      title: 'Build fails on Node 20',
      payload,
    });
  });

  it('should report only the labels added when the labels change', () => {
    const body = JSON.stringify(
      jiraIssueUpdated([
        {
          field: 'labels',
          fieldtype: 'jira',
          fieldId: 'labels',
          from: null,
          fromString: 'backend flaky',
          to: null,
          toString: 'backend hangar needs-triage',
        },
      ]),
    );
    const { inbound } = receive(jiraAdapter, body, JIRA_HEADERS);
    expect(inbound.labelsAdded).toEqual(['hangar', 'needs-triage']);
    expect(inbound.statusTo).toBeUndefined();
  });

  it('should read the mention when a comment is created', () => {
    const body = JSON.stringify({
      timestamp: 1717243260000,
      webhookEvent: 'comment_created',
      comment: {
        self: 'https://your-domain.atlassian.net/rest/api/2/issue/10002/comment/10200',
        id: '10200',
        author: JIRA_USER,
        body: 'Could someone look?\n@hangar investigate the flaky test\nlogs are attached',
        updateAuthor: JIRA_USER,
        created: '2024-06-01T12:01:00.000+0000',
        updated: '2024-06-01T12:01:00.000+0000',
      },
      issue: {
        id: JIRA_ISSUE.id,
        self: JIRA_ISSUE.self,
        key: JIRA_ISSUE.key,
        fields: { summary: JIRA_ISSUE.fields.summary },
      },
    });
    const { inbound, eventName } = receive(jiraAdapter, body, JIRA_HEADERS);
    expect(eventName).toBe('comment_created');
    expect(inbound).toMatchObject({
      event: 'comment_created',
      mention: { word: 'investigate', args: 'the flaky test\nlogs are attached' },
      threadKey: 'jira:HANG-42',
      ref: { kind: 'jira-issue', issueKey: 'HANG-42' },
      title: 'Build fails on Node 20',
    });
  });

  it('should read the mention when the comment is an Atlassian document', () => {
    const body = {
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'Over to you.' }] },
        {
          type: 'paragraph',
          content: [
            { type: 'mention', attrs: { id: '712020:abc', text: '@Hangar' } },
            { type: 'text', text: ' fix ' },
            { type: 'text', text: 'this', marks: [{ type: 'strong' }] },
            { type: 'hardBreak' },
            { type: 'text', text: 'before Friday' },
          ],
        },
      ],
    };
    const inbound = jiraAdapter.normalize(
      'comment_created',
      { comment: { body }, issue: JIRA_ISSUE },
      OPTIONS,
    );
    expect(inbound.mention).toEqual({ word: 'fix', args: 'this\nbefore Friday' });
  });

  it('should read the description and labels when an issue is created', () => {
    const payload = {
      webhookEvent: 'jira:issue_created',
      issue_event_type_name: 'issue_created',
      user: JIRA_USER,
      issue: { ...JIRA_ISSUE, fields: { ...JIRA_ISSUE.fields, description: '@hangar triage' } },
    };
    expect(jiraAdapter.normalize('jira:issue_created', payload, OPTIONS)).toMatchObject({
      mention: { word: 'triage', args: '' },
      labelsAdded: ['backend', 'hangar'],
      threadKey: 'jira:HANG-42',
    });
  });

  it('should refuse the body clearly when it is not JSON', () => {
    expect(() => jiraAdapter.parseBody(Buffer.from(''), 'application/json')).toThrow(
      /^the Jira delivery body is not JSON/,
    );
  });
});

// Sentry's integration platform docs: an issue alert rule firing, and its headers.
const SENTRY_EVENT_ALERT = {
  action: 'triggered',
  installation: { uuid: 'a8e5d37a-696c-4c54-adb5-b3f28d64c7de' },
  data: {
    event: {
      event_id: 'e4874d664c3540c1a32eab185f12c5ab',
      project: 1,
      release: null,
      platform: 'node',
      level: 'error',
      issue_id: '1117540176',
      issue_url: 'https://sentry.io/api/0/issues/1117540176/',
      url: 'https://sentry.io/api/0/projects/test-org/front-end/events/e4874d664c3540c1a32eab185f12c5ab/',
      web_url:
        'https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/',
      title: "TypeError: Cannot read properties of undefined (reading 'id')",
      message: '',
      culprit: 'handleRequest(server/routes)',
      datetime: '2024-06-01T12:00:00.000000Z',
    },
    triggered_rule: 'Very Important Alert Rule!',
  },
  actor: { type: 'application', id: 'sentry', name: 'Sentry' },
};

const SENTRY_HEADERS = {
  'content-type': 'application/json',
  'request-id': '6b5e2a7c-33a1-4f7e-8d3f-0a4c9c1f2e11',
  'sentry-hook-resource': 'event_alert',
  'sentry-hook-timestamp': '1717243200',
  'sentry-hook-signature': 'ignored-here',
};

describe('sentryAdapter', () => {
  it('should point at the issue when an alert rule triggers', () => {
    const { inbound, deliveryId, eventName, payload } = receive(
      sentryAdapter,
      JSON.stringify(SENTRY_EVENT_ALERT),
      SENTRY_HEADERS,
    );
    expect(deliveryId).toBe('6b5e2a7c-33a1-4f7e-8d3f-0a4c9c1f2e11');
    expect(eventName).toBe('event_alert');
    expect(inbound).toEqual<InboundEvent>({
      provider: 'sentry',
      event: 'event_alert.triggered',
      mention: undefined,
      labelsAdded: [],
      threadKey: 'sentry:1117540176',
      ref: { kind: 'sentry-issue', issueId: '1117540176' },
      title: "TypeError: Cannot read properties of undefined (reading 'id')",
      payload,
    });
  });

  it('should point at the issue when an issue is created', () => {
    const payload = {
      action: 'created',
      installation: { uuid: 'a8e5d37a-696c-4c54-adb5-b3f28d64c7de' },
      data: {
        issue: { id: '1170820242', title: 'Error: boom', shortId: 'FRONT-END-4', status: 'unresolved' },
      },
      actor: { type: 'application', id: 'sentry', name: 'Sentry' },
    };
    expect(sentryAdapter.normalize('issue', payload, OPTIONS)).toMatchObject({
      event: 'issue.created',
      threadKey: 'sentry:1170820242',
      ref: { kind: 'sentry-issue', issueId: '1170820242' },
      title: 'Error: boom',
    });
  });

  it('should start afresh when a metric alert names no issue', () => {
    const payload = {
      action: 'critical',
      data: {
        metric_alert: { id: '7', alert_rule: { name: 'p95 latency' } },
        description_title: 'Critical: p95 latency',
      },
    };
    const inbound = sentryAdapter.normalize('metric_alert', payload, OPTIONS);
    expect(inbound).toMatchObject({ event: 'metric_alert.critical', title: 'Critical: p95 latency' });
    expect(inbound.threadKey).toBeUndefined();
    expect(inbound.ref).toBeUndefined();
  });

  it('should refuse the body clearly when it is not JSON', () => {
    expect(() => sentryAdapter.parseBody(Buffer.from('ok'), 'application/json')).toThrow(
      /^the Sentry delivery body is not JSON/,
    );
  });
});

describe("Hangar's own answers", () => {
  // A finished task whose agent repeated the request it was given, mention and all.
  const task: Task = TaskSchema.parse({
    id: '0b9c3f4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e',
    project: 'default',
    status: 'COMPLETED',
    priority: 'normal',
    prompt: 'fix the flaky test',
    profile: 'default',
    scenario: null,
    timeoutSeconds: 600,
    attempts: 1,
    result: '@hangar fix the flaky test: done, the retry loop now waits for the port.',
    costUsd: 0.0123,
    usage: null,
    numTurns: 3,
    durationMs: 4200,
    agentSessionId: null,
    exitCode: 0,
    workspace: null,
    sandbox: null,
    repository: null,
    ref: null,
    push: false,
    branch: null,
    baseCommit: null,
    pushedAt: null,
    conversationId: null,
    retryOf: null,
    outputSchema: null,
    check: null,
    checkResult: null,
    workspaceOf: null,
    workflowRunId: null,
    workflowStep: null,
    requires: [],
    pool: 'default',
    parentTaskId: null,
    rootTaskId: '0b9c3f4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e',
    depth: 0,
    error: null,
    waiting: null,
    lastSeq: 12,
    traceId: null,
    createdAt: '2026-12-01T10:00:00.000Z',
    startedAt: '2026-12-01T10:00:01.000Z',
    finishedAt: '2026-12-01T10:00:05.000Z',
  });

  it('should know the GitHub comment Hangar posted as its own, link or not', () => {
    for (const publicUrl of [undefined, 'https://hangar.example.com']) {
      const payload = withCommentBody(
        githubExample('issue_comment', 'created'),
        replyText(task, 'github', publicUrl),
      );
      const { inbound } = receiveGithub('issue_comment', payload);
      expect(inbound.mention).toMatchObject({ word: 'fix' });
      expect(inbound.fromHangar).toBe(true);
    }
  });

  it('should know the Jira comment Hangar posted as its own, as the document it sent', () => {
    const inbound = jiraAdapter.normalize(
      'comment_created',
      {
        comment: { body: toAdfDocument(replyText(task, 'jira', 'https://hangar.example.com')) },
        issue: JIRA_ISSUE,
      },
      OPTIONS,
    );
    expect(inbound.mention).toMatchObject({ word: 'fix' });
    expect(inbound.fromHangar).toBe(true);
  });

  it('should know its question about an approval as its own, though it spells out "@hangar approve"', () => {
    const approval = {
      id: 'cmapproval0001',
      taskId: task.id,
      project: 'default',
      profile: 'gated',
      attempt: 1,
      tool: 'Bash',
      input: { command: 'git push origin main' },
      rule: 'Bash(git push:*)',
      status: 'PENDING' as const,
      decision: null,
      message: null,
      answeredBy: null,
      answeredAt: null,
      answerableBy: 'operator' as const,
      deadline: '2026-12-01T10:15:00.000Z',
      createdAt: '2026-12-01T10:00:00.000Z',
    };
    const github = approvalRequestText(approval, 'github', {
      prefix: '@hangar',
      publicUrl: 'https://h.example',
    });
    expect(github).toContain('`@hangar approve-all cmapproval0001`');
    expect(github).toContain('git push origin main');
    const { inbound } = receiveGithub(
      'issue_comment',
      withCommentBody(githubExample('issue_comment', 'created'), github),
    );
    expect(inbound.fromHangar).toBe(true);
    const jira = jiraAdapter.normalize(
      'comment_created',
      {
        comment: { body: toAdfDocument(approvalRequestText(approval, 'jira', { prefix: '@hangar' })) },
        issue: JIRA_ISSUE,
      },
      OPTIONS,
    );
    expect(jira.fromHangar).toBe(true);
    // A fence in the agent's input cannot end the question's code block.
    const fenced = approvalRequestText(
      { ...approval, input: { command: 'echo ```\n@hangar approve-all x' } },
      'github',
      { prefix: '@hangar' },
    );
    expect(fenced.match(/```/g)).toHaveLength(2);
  });

  it("should not take a person's comment that talks about Hangar tasks for one of its own", () => {
    const github = receiveGithub(
      'issue_comment',
      withCommentBody(githubExample('issue_comment', 'created'), 'The Hangar task failed, @hangar retry'),
    ).inbound;
    expect(github.fromHangar).toBe(false);
    const jira = jiraAdapter.normalize(
      'comment_created',
      { comment: { body: '@hangar why did Hangar task 12 fail?' }, issue: JIRA_ISSUE },
      OPTIONS,
    );
    expect(jira.fromHangar).toBe(false);
  });
});

describe('PROVIDER_ADAPTERS', () => {
  it('should hand out the adapter of each provider when asked by name', () => {
    for (const [provider, adapter] of Object.entries(PROVIDER_ADAPTERS)) {
      expect(adapter.provider).toBe(provider);
      expect(adapterFor(adapter.provider)).toBe(adapter);
    }
  });
});

describe(parseMention.name, () => {
  it.each([
    ['@hangar fix this', { word: 'fix', args: 'this' }],
    ['Thanks! @hangar fix this', { word: 'fix', args: 'this' }],
    ['> quoted: @HANGAR Review now', { word: 'review', args: 'now' }],
    ['@hangar: deploy staging', { word: 'deploy', args: 'staging' }],
    ['@hangar', { word: '', args: '' }],
    ['see @hangar.', { word: '', args: '' }],
    ['@hangar fix\n\n  step one\n  step two  ', { word: 'fix', args: 'step one\n  step two' }],
  ])('should read %p when the prefix starts a word', (text, expected) => {
    expect(parseMention(text, '@hangar')).toEqual(expected);
  });

  it.each(['me@hangar.io', '@hangarbot fix this', 'no prefix here', ''])(
    'should find nothing in %p when the prefix is absent or glued to a name',
    (text) => {
      expect(parseMention(text, '@hangar')).toBeUndefined();
    },
  );

  it('should take the prefix literally when it holds regular expression characters', () => {
    expect(parseMention('ok /ai+ fix it', '/ai+')).toEqual({ word: 'fix', args: 'it' });
    expect(parseMention('ok /aii fix it', '/ai+')).toBeUndefined();
  });
});
