// A FAKE: a faithful fake of the parts of the GitHub, Slack and Jira HTTP APIs Hangar calls; this machine cannot
// reach the real ones. One local server answers the requests the official clients send (@octokit/rest,
// @slack/web-api, @slack/webhook, jira.js) with the statuses and JSON shapes those clients expect, checks
// credentials the way each API does, and records every request for the specs to assert on.
//
//   GitHub   POST /repos/:owner/:repo/issues/:n/comments                 201 issue comment
//            POST /repos/:owner/:repo/pulls/:n/comments/:id/replies      201 review comment
//            POST /repos/:owner/:repo/issues/comments/:id/reactions      201 reaction (200 when it exists)
//            POST /repos/:owner/:repo/issues/:n/reactions                201 reaction (200 when it exists)
//            POST /repos/:owner/:repo/pulls/comments/:id/reactions       201 reaction (200 when it exists)
//            POST /repos/:owner/:repo/issues/:n/labels                   200 every label the issue now has
//            authorization: token <t> | bearer <t>, else 401
//   Slack    POST /api/chat.postMessage, /api/reactions.add              200 { ok, … }; errors are ok:false
//            form-encoded (what @slack/web-api sends) or JSON; a bot token as Bearer (or a form `token`)
//            POST /slack/response/<id> (a slash command's response_url)  200 ok
//            POST /services/<team>/<bot>/<secret> (an incoming webhook)   200 ok; 400 invalid_payload / no_text
//   Hooks    POST /hooks/<name>: any other receiver of Hangar's webhooks (its own signed notifications):
//            recorded and answered 200, or the status `answerHooks(name, status)` set
//   Jira     POST /rest/api/3/issue/:key/comment                         201 comment (body in ADF)
//            PUT  /rest/api/3/issue/:key                                 204
//            authorization: Basic base64(email:apiToken), else 401
//
// Stricter than the real APIs in one place: Slack text over 40000 characters is refused (msg_too_long) rather
// than cut, so a client that forgets to truncate shows it. GitHub (65536) and Jira (32767) refuse too, as they do.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProviderApisFakeOptions {
  // The credentials each API accepts (defaults below); anything else is refused the way the real API refuses it.
  githubToken?: string;
  // More GitHub tokens it takes (several configurations, each with its own).
  moreGithubTokens?: string[];
  slackBotToken?: string;
  jiraEmail?: string;
  jiraApiToken?: string;
}

export interface RecordedCall {
  method: string;
  // With the query string.
  path: string;
  // Lowercased names, as node gives them; repeated headers joined with ", ".
  headers: Record<string, string>;
  // Parsed JSON, or the fields of a form body; the raw text otherwise; undefined when empty.
  body: unknown;
  rawBody: string;
  // When it arrived (ms since the epoch).
  at: number;
}

export type CallPredicate = (call: RecordedCall, index: number) => boolean;

interface FakeResponse {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

interface Waiter {
  predicate: CallPredicate;
  resolve: (call: RecordedCall) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

type Json = Record<string, unknown>;

const GITHUB_REACTIONS = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];
const GITHUB_COMMENT_LIMIT = 65_536;
const SLACK_TEXT_LIMIT = 40_000;
const JIRA_TEXT_LIMIT = 32_767;
// Jira looks keys up case-insensitively.
const JIRA_KEY = /^(?:[A-Z][A-Z0-9_]*-\d+|\d+)$/i;
const JSON_TYPE = 'application/json; charset=utf-8';

export class ProviderApisFake {
  readonly calls: RecordedCall[] = [];
  private readonly server: Server;
  private readonly waiters = new Set<Waiter>();
  private readonly credentials: Required<Omit<ProviderApisFakeOptions, 'moreGithubTokens'>>;
  private base: string | undefined;
  private nextId = 1_000_001;
  private slackClock = 1_700_000_000;
  // What the real APIs remember between calls, as far as their answers depend on it.
  private readonly githubLabels = new Map<string, string[]>();
  private readonly githubReactions = new Map<string, Json>();
  private readonly slackReactions = new Set<string>();
  private readonly jiraLabels = new Map<string, Set<string>>();
  private readonly hookStatus = new Map<string, number>();

  private readonly moreGithubTokens: string[];

  constructor(options: ProviderApisFakeOptions = {}) {
    this.moreGithubTokens = options.moreGithubTokens ?? [];
    this.credentials = {
      githubToken: options.githubToken ?? 'ghp_fake_github_token',
      slackBotToken: options.slackBotToken ?? 'xoxb-fake-slack-bot-token',
      jiraEmail: options.jiraEmail ?? 'hangar@example.com',
      jiraApiToken: options.jiraApiToken ?? 'fake-jira-api-token',
    };
    this.server = createServer((request, response) => this.handle(request, response));
  }

  // Listens on a free port of 127.0.0.1; resolves to the fake itself.
  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.base = `http://127.0.0.1:${port}`;
    return this;
  }

  get url(): string {
    if (!this.base) throw new Error('the provider APIs fake is not started: await fake.start() first');
    return this.base;
  }

  // octokit's baseUrl.
  get githubApiUrl(): string {
    return this.url;
  }

  // @slack/web-api's slackApiUrl.
  get slackApiUrl(): string {
    return `${this.url}/api/`;
  }

  // jira.js's host: the site, without /rest.
  get jiraUrl(): string {
    return this.url;
  }

  // Stands in for a slash command's response_url; same origin as slackApiUrl.
  slackResponseUrl(id: string): string {
    return `${this.url}/slack/response/${id.split('/').map(encodeURIComponent).join('/')}`;
  }

  // A Slack incoming webhook's URL (what a Slack app's "Incoming Webhooks" page gives).
  slackIncomingWebhookUrl(id: string): string {
    return `${this.url}/services/T0FAKE/B0FAKE/${encodeURIComponent(id)}`;
  }

  // A receiver of Hangar's own webhooks; `answerHooks` sets what it answers (200 by default).
  hookUrl(name: string): string {
    return `${this.url}/hooks/${encodeURIComponent(name)}`;
  }

  answerHooks(name: string, status: number): void {
    this.hookStatus.set(name, status);
  }

  // The first call, already recorded or still to come, that matches. To wait only for later calls, note
  // `calls.length` first and match on the index.
  waitFor(predicate: CallPredicate, timeoutMs = 5_000): Promise<RecordedCall> {
    const index = this.calls.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.calls[index]!);
    return new Promise<RecordedCall>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const seen = this.calls.map((call) => `${call.method} ${call.path}`).join(', ') || 'none';
          reject(new Error(`no matching provider API call within ${timeoutMs} ms (calls so far: ${seen})`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('the provider APIs fake was closed'));
    }
    this.waiters.clear();
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
    // fetch keeps connections alive; close() alone would wait for them to idle out.
    this.server.closeAllConnections();
    await closed;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(', ') : (value ?? ''),
        ]),
      );
      const call: RecordedCall = {
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        headers,
        body: parseBody(headers['content-type'], rawBody),
        rawBody,
        at: Date.now(),
      };
      const index = this.calls.push(call) - 1;
      let answer: FakeResponse;
      try {
        answer = this.route(call);
      } catch (error) {
        answer = { status: 500, text: error instanceof Error ? error.message : String(error) };
      }
      send(response, answer);
      this.notify(call, index);
    });
  }

  private notify(call: RecordedCall, index: number): void {
    for (const waiter of this.waiters) {
      let matched: boolean;
      try {
        matched = waiter.predicate(call, index);
      } catch (error) {
        matched = false;
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
      }
      if (matched) {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(call);
      }
    }
  }

  private route(call: RecordedCall): FakeResponse {
    const pathname = new URL(call.path, 'http://fake').pathname;
    if (pathname.startsWith('/repos/')) {
      const answer = this.github(call, pathname);
      // octokit names this id in its request log and errors.
      const requestId = `FAKE:${this.id().toString(16).toUpperCase()}`;
      return {
        ...answer,
        headers: {
          'x-github-request-id': requestId,
          'x-github-media-type': 'github.v3; format=json',
          ...answer.headers,
        },
      };
    }
    if (pathname.startsWith('/api/')) return this.slackWebApi(call, pathname.slice('/api/'.length));
    if (pathname.startsWith('/slack/response/') || pathname.startsWith('/services/'))
      return this.slackResponseUrlAnswer(call);
    if (pathname.startsWith('/hooks/')) {
      const status = this.hookStatus.get(decodeURIComponent(pathname.slice('/hooks/'.length))) ?? 200;
      return { status, text: status < 300 ? 'ok' : 'refused' };
    }
    if (pathname.startsWith('/rest/api/')) return this.jira(call, pathname);
    return { status: 404, text: 'Not Found' };
  }

  // GitHub REST: https://docs.github.com/rest
  private github(call: RecordedCall, pathname: string): FakeResponse {
    const authorization = call.headers.authorization ?? '';
    const presented = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization)?.[1];
    if (!authorization) return githubError(401, 'Requires authentication', 'rest/overview/authenticating');
    if (presented !== this.credentials.githubToken && !this.moreGithubTokens.includes(presented ?? ''))
      return githubError(401, 'Bad credentials', 'rest');
    // GitHub reads the body as JSON whatever its content-type says.
    let parsed: unknown;
    try {
      parsed = call.rawBody === '' ? {} : (JSON.parse(call.rawBody) as unknown);
    } catch {
      return githubError(400, 'Problems parsing JSON', 'rest');
    }
    const body = isObject(parsed) ? parsed : {};
    if (call.method !== 'POST') return githubError(404, 'Not Found', 'rest');
    const segments = pathname.split('/').slice(2).map(decodeURIComponent);
    const [owner, repo, area, ...rest] = segments;
    if (!owner || !repo) return githubError(404, 'Not Found', 'rest');
    const repoPath = `/repos/${owner}/${repo}`;
    const route = `${area}/${rest.join('/')}`;
    let match: RegExpExecArray | null;

    if ((match = /^issues\/(\d+)\/comments$/.exec(route))) {
      const invalid = githubBodyProblem('IssueComment', body.body);
      if (invalid) return invalid;
      const id = this.id();
      const number = Number(match[1]);
      return {
        status: 201,
        json: {
          ...this.githubCommentFields(id, body.body as string),
          url: `${this.url}${repoPath}/issues/comments/${id}`,
          html_url: `https://github.com/${owner}/${repo}/issues/${number}#issuecomment-${id}`,
          issue_url: `${this.url}${repoPath}/issues/${number}`,
        },
        headers: { location: `${this.url}${repoPath}/issues/comments/${id}` },
      };
    }
    if ((match = /^pulls\/(\d+)\/comments\/(\d+)\/replies$/.exec(route))) {
      const invalid = githubBodyProblem('PullRequestReviewComment', body.body);
      if (invalid) return invalid;
      const id = this.id();
      const number = Number(match[1]);
      return {
        status: 201,
        json: {
          ...this.githubCommentFields(id, body.body as string),
          url: `${this.url}${repoPath}/pulls/comments/${id}`,
          html_url: `https://github.com/${owner}/${repo}/pull/${number}#discussion_r${id}`,
          pull_request_url: `${this.url}${repoPath}/pulls/${number}`,
          pull_request_review_id: this.id(),
          in_reply_to_id: Number(match[2]),
          diff_hunk: '@@ -1 +1 @@',
          path: 'README.md',
          commit_id: '0000000000000000000000000000000000000000',
          original_commit_id: '0000000000000000000000000000000000000000',
        },
      };
    }
    if ((match = /^(issues\/comments\/\d+|issues\/\d+|pulls\/comments\/\d+)\/reactions$/.exec(route))) {
      const content = body.content;
      if (typeof content !== 'string' || !GITHUB_REACTIONS.includes(content)) {
        return githubValidation('Reaction', [{ resource: 'Reaction', code: 'invalid', field: 'content' }]);
      }
      // GitHub answers 200 with the reaction it already has rather than adding a second one.
      const key = `${repoPath}/${match[1]}:${content}`;
      const existing = this.githubReactions.get(key);
      if (existing) return { status: 200, json: existing };
      const id = this.id();
      const reaction = {
        id,
        node_id: `REA_fake${id}`,
        user: this.githubUser(),
        content,
        created_at: new Date().toISOString(),
      };
      this.githubReactions.set(key, reaction);
      return { status: 201, json: reaction };
    }
    if ((match = /^issues\/(\d+)\/labels$/.exec(route))) {
      // GitHub takes { labels: [name | { name }] } or a bare array of names.
      const given: unknown = Array.isArray(parsed) ? parsed : body.labels;
      const names = Array.isArray(given)
        ? given.map((label: unknown) =>
            typeof label === 'object' && label !== null ? (label as { name?: unknown }).name : label,
          )
        : undefined;
      if (!names || names.length === 0 || names.some((name) => typeof name !== 'string' || name === '')) {
        return githubValidation('Label', [{ resource: 'Label', code: 'missing_field', field: 'labels' }]);
      }
      const key = `${repoPath}#${match[1]}`;
      const labels = this.githubLabels.get(key) ?? [];
      for (const name of names as string[]) if (!labels.includes(name)) labels.push(name);
      this.githubLabels.set(key, labels);
      return {
        status: 200,
        json: labels.map((name, position) => ({
          id: 208045946 + position,
          node_id: `LA_fake${position}`,
          url: `${this.url}${repoPath}/labels/${encodeURIComponent(name)}`,
          name,
          description: null,
          color: 'ededed',
          default: false,
        })),
      };
    }
    return githubError(404, 'Not Found', 'rest');
  }

  private githubCommentFields(id: number, text: string): Json {
    const now = new Date().toISOString();
    return {
      id,
      node_id: `IC_fake${id}`,
      body: text,
      user: this.githubUser(),
      created_at: now,
      updated_at: now,
      author_association: 'NONE',
      reactions: {
        url: `${this.url}/reactions/${id}`,
        total_count: 0,
        '+1': 0,
        '-1': 0,
        laugh: 0,
        hooray: 0,
        confused: 0,
        heart: 0,
        rocket: 0,
        eyes: 0,
      },
    };
  }

  private githubUser(): Json {
    return {
      login: 'hangar[bot]',
      id: 9_000_001,
      node_id: 'BOT_fake',
      avatar_url: 'https://avatars.githubusercontent.com/in/1',
      url: `${this.url}/users/hangar%5Bbot%5D`,
      html_url: 'https://github.com/apps/hangar',
      type: 'Bot',
      site_admin: false,
    };
  }

  // Slack Web API: https://docs.slack.dev/reference/methods. Always HTTP 200; failures are ok:false.
  private slackWebApi(call: RecordedCall, method: string): FakeResponse {
    const fields = slackFields(call);
    const bearer = /^Bearer\s+(\S+)$/i.exec(call.headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof fields.token === 'string' ? fields.token : undefined);
    if (!token) return slackAnswer({ ok: false, error: 'not_authed' });
    if (token !== this.credentials.slackBotToken) return slackAnswer({ ok: false, error: 'invalid_auth' });

    if (method === 'chat.postMessage') {
      const channel = stringField(fields.channel);
      if (!channel) return slackAnswer({ ok: false, error: 'channel_not_found' });
      const text = stringField(fields.text);
      if (!text && !fields.blocks && !fields.attachments) return slackAnswer({ ok: false, error: 'no_text' });
      if (text && text.length > SLACK_TEXT_LIMIT) return slackAnswer({ ok: false, error: 'msg_too_long' });
      const ts = this.slackTs();
      const threadTs = stringField(fields.thread_ts);
      return slackAnswer({
        ok: true,
        channel,
        ts,
        message: {
          user: 'U0FAKEBOT',
          type: 'message',
          ts,
          bot_id: 'B0FAKEBOT',
          app_id: 'A0FAKEAPP',
          text: text ?? '',
          team: 'T0FAKETEAM',
          ...(threadTs ? { thread_ts: threadTs, parent_user_id: 'U0FAKEUSER' } : {}),
        },
      });
    }
    if (method === 'reactions.add') {
      const channel = stringField(fields.channel);
      const timestamp = stringField(fields.timestamp);
      const name = stringField(fields.name);
      if (!channel || !timestamp) return slackAnswer({ ok: false, error: 'no_item_specified' });
      if (!name || !/^[a-z0-9_+'-]+(::skin-tone-[2-6])?$/.test(name)) {
        return slackAnswer({ ok: false, error: 'invalid_name' });
      }
      const key = `${channel}/${timestamp}/${name}`;
      if (this.slackReactions.has(key)) return slackAnswer({ ok: false, error: 'already_reacted' });
      this.slackReactions.add(key);
      return slackAnswer({ ok: true });
    }
    return slackAnswer({ ok: false, error: 'unknown_method', req_method: method });
  }

  // A slash command's response_url: JSON in, a bare `ok` out (errors are 4xx with a code as the text).
  private slackResponseUrlAnswer(call: RecordedCall): FakeResponse {
    if (call.method !== 'POST') return { status: 405, text: 'invalid_method' };
    let payload: Json;
    try {
      payload = JSON.parse(call.rawBody) as Json;
    } catch {
      return { status: 400, text: 'invalid_payload', headers: { 'content-type': 'text/html' } };
    }
    if (!stringField(payload.text) && !payload.blocks && !payload.attachments) {
      return { status: 400, text: 'no_text', headers: { 'content-type': 'text/html' } };
    }
    return { status: 200, text: 'ok', headers: { 'content-type': 'text/html' } };
  }

  // Jira Cloud REST v3: https://developer.atlassian.com/cloud/jira/platform/rest/v3
  private jira(call: RecordedCall, pathname: string): FakeResponse {
    const expected = Buffer.from(`${this.credentials.jiraEmail}:${this.credentials.jiraApiToken}`).toString(
      'base64',
    );
    if (call.headers.authorization !== `Basic ${expected}`) {
      return jiraError(401, ['Client must be authenticated to access this resource.']);
    }
    if (!(call.headers['content-type'] ?? '').startsWith('application/json')) {
      return jiraError(415, ['Unsupported Media Type']);
    }
    let body: Json;
    try {
      body = JSON.parse(call.rawBody || '{}') as Json;
    } catch {
      return jiraError(400, ['Unexpected character in the JSON body.']);
    }
    let match: RegExpExecArray | null;
    if (call.method === 'POST' && (match = /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/.exec(pathname))) {
      const key = decodeURIComponent(match[1]!);
      if (!JIRA_KEY.test(key))
        return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
      if (body.body === undefined) return jiraError(400, [], { comment: 'Comment body can not be empty!' });
      const problem = adfProblem(body.body);
      if (problem) return jiraError(400, ['INVALID_INPUT'], {}, problem);
      if (adfText(body.body).length > JIRA_TEXT_LIMIT) {
        return jiraError(400, [], {
          comment: `The entered text is too long. It exceeds the allowed limit of ${JIRA_TEXT_LIMIT} characters.`,
        });
      }
      const id = String(this.id());
      const now = jiraTimestamp();
      return {
        status: 201,
        json: {
          self: `${this.url}/rest/api/3/issue/${this.jiraIssueId(key)}/comment/${id}`,
          id,
          author: this.jiraUser(),
          body: body.body,
          updateAuthor: this.jiraUser(),
          created: now,
          updated: now,
          jsdPublic: true,
        },
      };
    }
    if (call.method === 'PUT' && (match = /^\/rest\/api\/3\/issue\/([^/]+)$/.exec(pathname))) {
      const key = decodeURIComponent(match[1]!);
      if (!JIRA_KEY.test(key))
        return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
      return this.jiraEditIssue(key, body);
    }
    return jiraError(404, ['The requested resource could not be found.']);
  }

  // Only labels can be edited here: any other field answers the way Jira does for a field not on the screen.
  private jiraEditIssue(key: string, body: Json): FakeResponse {
    const update = (body.update ?? {}) as Json;
    const fields = (body.fields ?? {}) as Json;
    const others = [...Object.keys(update), ...Object.keys(fields)].filter((field) => field !== 'labels');
    if (others.length > 0) {
      return jiraError(
        400,
        [],
        Object.fromEntries(
          others.map((field) => [
            field,
            `Field '${field}' cannot be set. It is not on the appropriate screen, or unknown.`,
          ]),
        ),
      );
    }
    const labels = new Set(this.jiraLabels.get(key) ?? []);
    const invalid = (label: unknown): string | undefined => {
      if (typeof label !== 'string' || label === '') return 'The label must not be empty.';
      if (/\s/.test(label)) return `The label '${label}' contains spaces which is invalid.`;
      if (label.length > 255) return 'The label exceeds the maximum length of 255 characters.';
      return undefined;
    };
    if (fields.labels !== undefined) {
      if (!Array.isArray(fields.labels)) return jiraError(400, [], { labels: 'data was not an array' });
      const problem = fields.labels.map(invalid).find(Boolean);
      if (problem) return jiraError(400, [], { labels: problem });
      labels.clear();
      for (const label of fields.labels as string[]) labels.add(label);
    }
    if (update.labels !== undefined) {
      if (!Array.isArray(update.labels)) return jiraError(400, [], { labels: 'data was not an array' });
      for (const operation of update.labels as Json[]) {
        const [verb] = Object.keys(operation);
        const value = verb === undefined ? undefined : operation[verb];
        if (verb === 'set') {
          if (!Array.isArray(value)) return jiraError(400, [], { labels: 'data was not an array' });
          const problem = value.map(invalid).find(Boolean);
          if (problem) return jiraError(400, [], { labels: problem });
          labels.clear();
          for (const label of value as string[]) labels.add(label);
          continue;
        }
        if (verb !== 'add' && verb !== 'remove') {
          return jiraError(400, [], {
            labels: `Operation '${verb ?? ''}' is not supported for field 'labels'.`,
          });
        }
        const problem = invalid(value);
        if (problem) return jiraError(400, [], { labels: problem });
        if (verb === 'add') labels.add(value as string);
        else labels.delete(value as string);
      }
    }
    this.jiraLabels.set(key, labels);
    return { status: 204 };
  }

  private jiraUser(): Json {
    const avatar = 'https://avatar-management.services.atlassian.com/default/48';
    return {
      self: `${this.url}/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5`,
      accountId: '5b10ac8d82e05b22cc7d4ef5',
      emailAddress: this.credentials.jiraEmail,
      avatarUrls: { '48x48': avatar, '24x24': avatar, '16x16': avatar, '32x32': avatar },
      displayName: 'Hangar',
      active: true,
      timeZone: 'Etc/UTC',
      accountType: 'atlassian',
    };
  }

  // Jira's `self` links use the numeric id, not the key.
  private jiraIssueId(key: string): string {
    return /^\d+$/.test(key) ? key : String(10_000 + Number(key.split('-').pop()));
  }

  private id(): number {
    return this.nextId++;
  }

  // Slack timestamps are "<seconds>.<6 digits>" and unique per channel.
  private slackTs(): string {
    this.slackClock += 1;
    return `${this.slackClock}.${String(this.nextId++ % 1_000_000).padStart(6, '0')}`;
  }
}

function parseBody(contentType: string | undefined, rawBody: string): unknown {
  if (rawBody === '') return undefined;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(rawBody) as unknown;
    } catch {
      return rawBody;
    }
  }
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(rawBody));
  return rawBody;
}

function send(response: ServerResponse, answer: FakeResponse): void {
  const headers: Record<string, string> = { ...answer.headers };
  let payload: string | undefined;
  if (answer.json !== undefined) {
    payload = JSON.stringify(answer.json);
    headers['content-type'] ??= JSON_TYPE;
  } else if (answer.text !== undefined) {
    payload = answer.text;
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  }
  response.writeHead(answer.status, headers);
  response.end(payload);
}

function githubError(status: number, message: string, docs: string): FakeResponse {
  return {
    status,
    json: { message, documentation_url: `https://docs.github.com/${docs}`, status: String(status) },
  };
}

function githubValidation(resource: string, errors: Json[]): FakeResponse {
  return {
    status: 422,
    json: {
      message: 'Validation Failed',
      errors,
      documentation_url: `https://docs.github.com/rest/${resource.toLowerCase()}`,
      status: '422',
    },
  };
}

function githubBodyProblem(resource: string, body: unknown): FakeResponse | undefined {
  if (typeof body !== 'string' || body.trim() === '') {
    return githubValidation(resource, [{ resource, code: 'missing_field', field: 'body' }]);
  }
  if (body.length > GITHUB_COMMENT_LIMIT) {
    return githubValidation(resource, [
      {
        resource,
        code: 'custom',
        field: 'body',
        message: `body is too long (maximum is ${GITHUB_COMMENT_LIMIT} characters)`,
      },
    ]);
  }
  return undefined;
}

// The Web API takes a form body (what @slack/web-api sends), JSON (with a Bearer token), or query parameters.
function slackFields(call: RecordedCall): Json {
  const query = Object.fromEntries(new URL(call.path, 'http://fake').searchParams);
  return { ...query, ...(isObject(call.body) ? call.body : {}) };
}

function slackAnswer(json: Json): FakeResponse {
  return {
    status: 200,
    json,
    headers: {
      'content-type': JSON_TYPE,
      'x-oauth-scopes': 'chat:write,reactions:write,commands',
    },
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function jiraError(
  status: number,
  errorMessages: string[],
  errors: Record<string, string> = {},
  detail?: string,
): FakeResponse {
  return {
    status,
    json: { errorMessages: detail ? [...errorMessages, detail] : errorMessages, errors },
    headers: { 'content-type': 'application/json;charset=UTF-8' },
  };
}

// Atlassian Document Format, as strictly as Jira checks what Hangar sends: a doc of nodes with a type, text
// nodes with non-empty text.
function adfProblem(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null) return 'the comment body is not a document';
  const doc = document as Json;
  if (doc.type !== 'doc' || doc.version !== 1 || !Array.isArray(doc.content)) {
    return 'the comment body must be { type: "doc", version: 1, content: [...] }';
  }
  const visit = (node: unknown, at: string): string | undefined => {
    if (typeof node !== 'object' || node === null) return `${at} is not a node`;
    const { type, text, content } = node as Json;
    if (typeof type !== 'string') return `${at} has no type`;
    if (type === 'text' && (typeof text !== 'string' || text === ''))
      return `${at} is a text node without text`;
    if (content === undefined) return undefined;
    if (!Array.isArray(content)) return `${at}.content is not an array`;
    for (const [index, child] of content.entries()) {
      const problem = visit(child, `${at}.content[${index}]`);
      if (problem) return problem;
    }
    return undefined;
  };
  for (const [index, child] of (doc.content as unknown[]).entries()) {
    const problem = visit(child, `content[${index}]`);
    if (problem) return problem;
  }
  return undefined;
}

function adfText(node: unknown): string {
  if (typeof node !== 'object' || node === null) return '';
  const { text, content } = node as Json;
  const own = typeof text === 'string' ? text : '';
  return own + (Array.isArray(content) ? content.map(adfText).join('') : '');
}

// Jira writes times as 2024-01-01T10:00:00.000+0000.
function jiraTimestamp(): string {
  return new Date().toISOString().replace('Z', '+0000');
}
