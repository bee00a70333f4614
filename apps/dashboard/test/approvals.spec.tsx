import type { Approval } from '@hangar/contracts';
import { renderToStaticMarkup } from 'react-dom/server';
import { ApprovalsPanel, ApprovalView } from '../app/components/approvals';
import { ApiError, describeError } from '../app/lib/api';
import { answerApproval, answerBody, describeAnswer, inputText } from '../app/lib/approvals';

const HOSTILE = '<img src=x onerror=alert(1)>';

function approval(overrides: Partial<Approval> = {}): Approval {
  return {
    id: 'ap1',
    taskId: 'task1',
    project: 'default',
    profile: 'gated',
    attempt: 1,
    tool: 'Bash',
    input: { command: 'cd repo && git push ../origin.git HEAD:refs/heads/approved' },
    rule: 'Bash(git push:*)',
    status: 'PENDING',
    decision: null,
    message: null,
    answeredBy: null,
    answeredAt: null,
    answerableBy: 'operator',
    deadline: '2026-12-05T16:15:00.000Z',
    createdAt: '2026-12-05T16:00:00.000Z',
    ...overrides,
  };
}

const panel = (approvals: Approval[], mayAnswer = true, error: string | null = null) =>
  renderToStaticMarkup(
    <ApprovalsPanel approvals={approvals} error={error} mayAnswer={mayAnswer} onChanged={() => undefined} />,
  );

const view = (props: Partial<Parameters<typeof ApprovalView>[0]> = {}) =>
  renderToStaticMarkup(
    <ApprovalView
      approval={approval()}
      mayAnswer
      showTask={false}
      message=""
      busy={false}
      error={null}
      onMessage={() => undefined}
      onAnswer={() => undefined}
      {...props}
    />,
  );

// The markup of each approval card, in order.
const cards = (html: string) => html.split('<article').slice(1);

describe(ApprovalsPanel.name, () => {
  it('should show a pending call with its tool, input, rule, deadline and the three answers', () => {
    const html = panel([approval()]);
    expect(html).toContain('Approvals');
    expect(html).toContain('1 waiting');
    expect(html).toContain('<strong>Bash</strong>');
    expect(html).toContain('<code>Bash(git push:*)</code>');
    expect(html).toContain('cd repo &amp;&amp; git push ../origin.git HEAD:refs/heads/approved');
    expect(html).toContain('<time dateTime="2026-12-05T16:15:00.000Z">');
    expect(html).toMatch(/<button type="button"[^>]*>Allow once<\/button>/);
    expect(html).toMatch(/<button type="button"[^>]*>Allow for this task<\/button>/);
    expect(html).toMatch(/<button type="submit"[^>]*>Deny<\/button>/);
    expect(html).toContain('Message for the agent');
    expect(html).toMatch(/<input[^>]*name="message"/);
    expect(html).not.toContain('disabled');
  });

  it('should show a viewer the call without any answer control, and who may answer it', () => {
    const html = panel([approval()], false);
    expect(html).toContain('<strong>Bash</strong>');
    expect(html).not.toContain('<button');
    expect(html).not.toContain('<input');
    expect(html).toContain('An operator of project default answers this.');
  });

  it('should show answered calls with who answered, how and the message, after the waiting ones', () => {
    const html = panel([
      approval({
        id: 'denied',
        status: 'DENIED',
        decision: 'deny',
        message: 'open a pull request instead',
        answeredBy: 'olga@example.com',
        answeredAt: '2026-12-05T16:01:00.000Z',
      }),
      approval({
        id: 'allowed',
        status: 'ALLOWED',
        decision: 'allow-task',
        answeredBy: 'olga@example.com',
        answeredAt: '2026-12-05T16:02:00.000Z',
      }),
      approval({ id: 'expired', status: 'EXPIRED', message: 'no answer within 5s: denied' }),
      approval({ id: 'waits' }),
    ]);
    const [waits, denied, allowed, expired] = cards(html);
    expect(waits).toContain('data-approval-id="waits"');
    expect(waits).toContain('Allow once');
    expect(denied).toContain('data-approval-id="denied"');
    expect(denied).toContain('Denied by olga@example.com at ');
    expect(denied).toContain('Told the agent: <q>open a pull request instead</q>');
    expect(allowed).toContain('Allowed for this task by olga@example.com at ');
    expect(expired).toContain(
      'Expired without an answer (the call was denied): <q>no answer within 5s: denied</q>',
    );
    for (const card of [denied, allowed, expired]) {
      expect(card).not.toContain('<button');
      expect(card).toContain('data-testid="approval-answer"');
    }
    expect(html).toContain('1 waiting');
  });

  it('should show nothing for a task without approvals, and a failed load as an alert', () => {
    expect(panel([])).toBe('');
    expect(panel([], true, 'request failed (500)')).toContain(
      '<p role="alert" class="error">request failed (500)</p>',
    );
  });

  it('should show a hostile input, tool, rule and message as text, never as markup', () => {
    const html = panel([
      approval({ tool: HOSTILE, input: { command: HOSTILE }, rule: `Bash(${HOSTILE})` }),
      approval({ id: 'string', input: HOSTILE }),
      approval({ id: 'denied', status: 'DENIED', decision: 'deny', message: HOSTILE, answeredBy: HOSTILE }),
    ]);
    expect(html).not.toContain('<img');
    // No element carries an onerror attribute (once the attributes' escaped values are set aside).
    expect(html.replace(/="[^"]*"/g, '=""')).not.toMatch(/<[^>]*\sonerror/);
    expect(html).toContain(
      '<pre data-testid="approval-input" aria-label="Input of &lt;img src=x onerror=alert(1)&gt;">command: &lt;img src=x onerror=alert(1)&gt;</pre>',
    );
    expect(html).toContain('<strong>&lt;img src=x onerror=alert(1)&gt;</strong>');
    expect(html).toContain('<code>Bash(&lt;img src=x onerror=alert(1)&gt;)</code>');
    // A string input is shown as it is, not quoted as JSON.
    expect(html).toContain('>&lt;img src=x onerror=alert(1)&gt;</pre>');
    expect(html).toContain('<q>&lt;img src=x onerror=alert(1)&gt;</q>');
  });

  it('should fold a long input: its first lines in view, the whole of it behind a summary', () => {
    const lines = Array.from({ length: 40 }, (_, index) => `line ${index + 1}`);
    const html = panel([
      approval({ tool: 'Write', input: { file_path: 'a.txt', content: lines.join('\n') } }),
    ]);
    const [shown = '', whole = ''] = html.split('<details>');
    expect(shown).toContain('<pre data-testid="approval-input"');
    expect(shown).toContain('…</pre>');
    expect(whole).toContain('<summary>Whole input (');
    expect(whole).toContain('line 40');
  });
});

describe(ApprovalView.name, () => {
  it("should show the API's refusal inline, with its problem detail", () => {
    const refusal = new ApiError({
      status: 409,
      title: 'Conflict',
      code: 'APPROVAL_CLOSED',
      detail: 'approval ap1 cannot be answered: it was answered already (allow-once by olga@example.com)',
    });
    const html = view({ error: describeError(refusal) });
    expect(html).toContain(
      '<p role="alert" class="error">approval ap1 cannot be answered: it was answered already (allow-once by olga@example.com)</p>',
    );
  });

  it('should keep the typed message and hold the buttons while an answer is on its way', () => {
    const html = view({ busy: true, message: 'not on main' });
    expect(html).toContain('value="not on main"');
    expect(html.match(/<button[^>]*disabled=""/g)).toHaveLength(3);
  });

  it("should name the task, with a link to it, and the project when listing several tasks' approvals", () => {
    const html = view({ showTask: true });
    expect(html).toContain('<a href="/tasks/task1">task1</a>');
    expect(html).toContain('project default');
    expect(html).toContain('profile gated');
  });
});

describe('answering an approval', () => {
  it('should send a message only with a denial, trimmed, and none when left empty', () => {
    expect(answerBody('deny', '  open a pull request  ')).toEqual({
      decision: 'deny',
      message: 'open a pull request',
    });
    expect(answerBody('deny', '   ')).toEqual({ decision: 'deny' });
    expect(answerBody('allow-once', 'typed before choosing allow')).toEqual({ decision: 'allow-once' });
    expect(answerBody('allow-task', '')).toEqual({ decision: 'allow-task' });
  });

  describe(answerApproval.name, () => {
    const realFetch = globalThis.fetch;
    let calls: { url: string; init: RequestInit | undefined; body: string }[];
    const answerWith = (status: number, body: unknown) => {
      globalThis.fetch = (async (url: string, init?: RequestInit) => {
        calls.push({ url, init, body: typeof init?.body === 'string' ? init.body : '' });
        return new Response(JSON.stringify(body), {
          status,
          headers: { 'content-type': status < 400 ? 'application/json' : 'application/problem+json' },
        });
      }) as typeof fetch;
    };

    beforeEach(() => {
      calls = [];
    });
    afterEach(() => {
      globalThis.fetch = realFetch;
    });

    it('should POST the decision to the approval on the same origin and return the answered approval', async () => {
      const answered = approval({ status: 'DENIED', decision: 'deny', message: 'no', answeredBy: 'me' });
      answerWith(200, answered);
      await expect(answerApproval('ap1', 'deny', ' no ')).resolves.toEqual(answered);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.url).toBe('/api/v1/approvals/ap1/answer');
      expect(calls[0]?.init).toMatchObject({ method: 'POST', credentials: 'same-origin' });
      expect(JSON.parse(calls[0]?.body ?? '')).toEqual({ decision: 'deny', message: 'no' });
    });

    it.each([
      [
        409,
        'APPROVAL_CLOSED',
        'approval ap1 cannot be answered: its deadline (2026-12-05T16:15:00.000Z) has passed',
      ],
      [403, 'FORBIDDEN', 'vic@example.com is a viewer in project "default"; this needs operator or more'],
    ])('should turn a %i into an error that reads its problem detail', async (status, code, detail) => {
      answerWith(status, { type: 'about:blank', title: 'Refused', status, code, detail });
      const failure: unknown = await answerApproval('ap1', 'allow-once').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ApiError);
      expect((failure as ApiError).status).toBe(status);
      expect(describeError(failure)).toBe(detail);
    });
  });
});

describe('how an approval reads', () => {
  it('should say how each answered one was answered, and nothing while it waits', () => {
    expect(describeAnswer(approval())).toBeNull();
    expect(describeAnswer(approval({ status: 'ALLOWED', decision: 'allow-once', answeredBy: 'a@b' }))).toBe(
      'Allowed once by a@b',
    );
    expect(describeAnswer(approval({ status: 'ALLOWED', decision: 'allow-task', answeredBy: 'a@b' }))).toBe(
      'Allowed for this task by a@b',
    );
    expect(describeAnswer(approval({ status: 'DENIED', decision: 'deny', answeredBy: 'a@b' }))).toBe(
      'Denied by a@b',
    );
    expect(describeAnswer(approval({ status: 'EXPIRED' }))).toBe(
      'Expired without an answer (the call was denied)',
    );
  });

  it('should show each field on its line, a multi-line value as its own lines, and the rest as JSON', () => {
    expect(inputText('rm -rf /tmp/x')).toEqual({
      text: 'rm -rf /tmp/x',
      preview: 'rm -rf /tmp/x',
      folded: false,
    });
    expect(inputText({ command: 'ls', description: 'List files' }).text).toBe(
      'command: ls\ndescription: List files',
    );
    expect(
      inputText({ file_path: 'a.sh', content: '#!/bin/sh\necho hi\n', mode: 493, edits: [{ a: 1 }] }).text,
    ).toBe(
      'file_path: a.sh\ncontent:\n  #!/bin/sh\n  echo hi\n  \nmode: 493\nedits:\n  [\n    {\n      "a": 1\n    }\n  ]',
    );
    expect(inputText(['a', 1]).text).toBe('[\n  "a",\n  1\n]');
    expect(inputText({}).text).toBe('{}');
    expect(inputText(undefined).text).toBe('undefined');
    const long = inputText('x'.repeat(5000));
    expect(long.folded).toBe(true);
    expect(long.preview.length).toBeLessThan(1300);
    expect(long.text).toHaveLength(5000);
  });

  it('should show characters that hide or reorder what a command says as escapes', () => {
    // "Trojan Source": a right-to-left override makes `rm -rf ~ #` read otherwise than it runs.
    const sneaky = 'echo ok \u202E# ~ fr- mr\u202C; rm -rf ~\u200B\u0007\r';
    const shown = inputText({ command: sneaky }).text;
    expect(shown).toBe('command: echo ok \\u202e# ~ fr- mr\\u202c; rm -rf ~\\u200b\\u0007\\u000d');
    expect(inputText('tab\tand\nnewline').text).toBe('tab\tand\nnewline');
  });
});
