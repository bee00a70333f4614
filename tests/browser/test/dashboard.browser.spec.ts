import { execFileSync } from 'node:child_process';
import type { AlertRule, AlertSilence, GitHostList, Task, TaskEvent } from '@hangar/contracts';
import { browserSuite, signIn, startTask } from './support';

// The dashboard as a person uses it: real Chromium, the stack `hangar up` starts (real services,
// PostgreSQL, Redis, the Claude Code CLI against the scripted model). Each test saves
// screenshots in test-output/ and fails on any console error of the pages it visited.
describe('the dashboard in a browser', () => {
  const suite = browserSuite();
  const asAdmin = () => suite.asAdmin();

  it('should sign in and show the overview; a wrong password is told, not thrown', async () => {
    const current = await suite.open();
    const { page } = current;
    await page.goto('/tasks');
    await page.waitForURL(/\/login\?next=%2Ftasks/);
    await page.getByLabel('Email').fill(suite.hangar.admin.email);
    await page.getByLabel('Password').fill('not the password');
    await current.screenshot('login');
    // A refused sign-in is an answer on the page. Chromium logs the 401 response itself as a
    // console error: that one line is the only one forgiven.
    const before = current.errors.length;
    await page.getByRole('button', { name: 'Sign in' }).click();
    // (Next.js keeps an empty role=alert route announcer of its own: the form's is the one with text.)
    await page
      .getByRole('alert')
      .filter({ hasText: /wrong email or password/ })
      .waitFor();
    const after = current.errors.splice(before);
    current.errors.push(...after.filter((error) => !/status of 401/.test(error)));
    await page.getByLabel('Password').fill(suite.hangar.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/tasks$/);
    await page.getByRole('table', { name: 'Tasks' }).waitFor();
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: /Overview/ }).waitFor();
    await expect(page.getByTestId('runner-summary').textContent()).resolves.toMatch(/slots? in use/);
    await current.screenshot('overview');
  });

  it('should run a write-file task live: the Write card, the final text, then the diff', async () => {
    const { page, screenshot } = await asAdmin();
    const id = await startTask(page, 'write a file', 'write-file', suite.hangar.repository);
    const transcript = page.getByRole('log', { name: 'Agent transcript' });
    const writeCard = transcript.locator('[data-tool="Write"]');
    await writeCard.waitFor();
    await page.getByTestId('task-status').getByText('COMPLETED').waitFor();
    const task = (await suite.hangar.api<Task>('GET', `/api/v1/tasks/${id}`)).body;
    expect(task.status).toBe('COMPLETED');
    // The final text, as Markdown, in the transcript.
    await transcript.getByText(task.result!.trim().split('\n')[0]!.slice(0, 40)).first().waitFor();
    await writeCard.locator('summary').click();
    expect(await writeCard.textContent()).toContain('hello.txt');
    const diff = page.getByRole('list', { name: 'Changed files' });
    await diff.getByRole('link', { name: 'hello.txt' }).waitFor();
    expect(await page.getByRole('table', { name: 'Diff of hello.txt' }).textContent()).toContain(
      'hello from hangar',
    );
    await screenshot('task-detail');
    await page.goto('/tasks');
    await page.getByRole('link', { name: 'write a file' }).first().waitFor();
    await screenshot('tasks');
    // Search is in the URL with the filters: a reload shows the same rows.
    await page.getByLabel('Search').fill('WRITE A');
    await page.getByLabel('Search').press('Enter');
    await page.waitForURL(/[?&]q=WRITE\+A/);
    await page.reload();
    await page.getByRole('link', { name: 'write a file' }).first().waitFor();
    const prompts = await page
      .getByRole('table', { name: 'Tasks' })
      .locator('tbody td.wrap')
      .allTextContents();
    expect(prompts.length).toBeGreaterThan(0);
    expect(prompts.every((prompt) => prompt === 'write a file')).toBe(true);
  });

  it("should show a subagent's work inside the card of the Task call that started it", async () => {
    const { page, screenshot } = await asAdmin();
    const id = await startTask(page, 'use a helper', 'subagent');
    await page.getByTestId('task-status').getByText('COMPLETED').waitFor();
    const transcript = page.getByRole('log', { name: 'Agent transcript' });
    const taskCard = transcript.locator('[data-tool="Task"]');
    await taskCard.getByText(/its subagent: 1 tool call$/).waitFor();
    // The subagent's Bash call is not at the top level: only inside the Task card.
    expect(await transcript.locator(':scope > [data-tool="Bash"]').count()).toBe(0);
    await taskCard.locator('summary').first().click();
    const subagent = taskCard.getByRole('group', { name: 'What the subagent of Task did' });
    const bash = subagent.locator('[data-tool="Bash"]');
    await bash.locator('summary').click();
    expect(await bash.textContent()).toContain('ls | wc -l');
    await screenshot('task-subagent');
    // The events say so too: the Bash call names the Task call as its parent.
    const events = (await suite.hangar.api<{ items: TaskEvent[] }>('GET', `/api/v1/tasks/${id}/events`)).body
      .items;
    const calls = events.flatMap((event) => (event.type === 'tool.use' ? [event.data] : []));
    const task = calls.find((call) => call.name === 'Task');
    expect(task).toBeDefined();
    expect(calls.find((call) => call.name === 'Bash')?.parentToolUseId).toBe(task?.toolUseId);
  });

  it('should cancel a slow task from its page', async () => {
    const { page, screenshot } = await asAdmin();
    const id = await startTask(page, 'take your time', 'slow');
    await page.getByRole('log', { name: 'Agent transcript' }).locator('[data-tool="Bash"]').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('task-status').getByText('CANCELLED').waitFor();
    expect((await suite.hangar.api<Task>('GET', `/api/v1/tasks/${id}`)).body.status).toBe('CANCELLED');
    await page.getByRole('button', { name: 'Retry' }).waitFor();
    await screenshot('task-cancelled');
  });

  it('should hold a gated push until an operator allows it: listed on Approvals, answered on the task page', async () => {
    const { page, screenshot } = await asAdmin();
    // A profile whose `git push` waits for a person (docs/governance.md); the scripted model's
    // git-push scenario pushes twice with Bash.
    const profile = await suite.hangar.api('POST', '/api/v1/profiles', {
      name: 'gated',
      allowedTools: ['Bash'],
      approvals: { tools: ['Bash(git push:*)'], timeoutSeconds: 600 },
    });
    expect(profile.status).toBe(201);
    const task = (
      await suite.hangar.api<Task>('POST', '/api/v1/tasks', {
        prompt: 'push it',
        scenario: 'git-push',
        profile: 'gated',
      })
    ).body;

    // The approvals page lists it (it looks again every 5 s), with the navigation's count.
    await page.goto('/approvals');
    const listed = page
      .getByTestId('approval')
      .filter({ has: page.getByRole('link', { name: task.id, exact: true }) });
    await listed.waitFor({ timeout: 60_000 });
    expect(await listed.getByTestId('approval-input').textContent()).toContain(
      'command: cd repo && git push ../origin.git HEAD:refs/heads/approved',
    );
    expect(await listed.getByText('Bash(git push:*)').count()).toBeGreaterThan(0);
    await page.getByTestId('approval-count').getByText('1', { exact: true }).waitFor();
    await screenshot('approvals');

    // Its task says why it waits; the operator allows the pattern for the rest of the task.
    await listed.getByRole('link', { name: task.id, exact: true }).click();
    await page.waitForURL(new RegExp(`/tasks/${task.id}$`));
    await page
      .getByTestId('task-waiting')
      .getByText(/Waiting for approval/)
      .waitFor();
    const panel = page.getByRole('region', { name: /Approvals/ });
    await panel.getByRole('button', { name: 'Allow for this task' }).click();
    await panel
      .getByTestId('approval-answer')
      .getByText(`Allowed for this task by ${suite.hangar.admin.email}`)
      .waitFor();
    await page.getByTestId('task-status').getByText('COMPLETED').waitFor();
    // The second push did not ask again: one approval, allowed, and nothing left waiting.
    expect(await panel.getByTestId('approval').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Allow once' }).count()).toBe(0);
    expect(await page.getByTestId('task-waiting').count()).toBe(0);
    await page.getByTestId('approval-count').waitFor({ state: 'detached' });
    await screenshot('task-approvals');
  });

  it('should show each line once after a reload in the middle of a run', async () => {
    const { page } = await asAdmin();
    const id = await startTask(page, 'take your time', 'slow');
    const transcript = page.getByRole('log', { name: 'Agent transcript' });
    await transcript.locator('[data-tool="Bash"]').waitFor();
    await page.reload();
    await transcript.locator('[data-tool="Bash"]').waitFor();
    // Events after the reload arrive live: the cancellation's status line.
    await suite.hangar.api('POST', `/api/v1/tasks/${id}/cancel`);
    await page.getByTestId('task-status').getByText('CANCELLED').waitFor();
    await transcript.getByText(/^CANCELLED/).waitFor();
    const shown = await transcript
      .locator('[data-seq]')
      .evaluateAll((nodes) => nodes.map((node) => Number(node.getAttribute('data-seq'))));
    expect(new Set(shown).size).toBe(shown.length);
    const { items } = (await suite.hangar.api<{ items: TaskEvent[] }>('GET', `/api/v1/tasks/${id}/events`))
      .body;
    // Every status, tool call and text event has its one line (a tool result joins its card).
    const expected = items
      .filter((event) => ['task.status', 'tool.use', 'assistant.text', 'system.init'].includes(event.type))
      .map((event) => event.seq);
    expect(shown.filter((seq) => expected.includes(seq)).sort((a, b) => a - b)).toEqual(expected);
  });

  it('should continue a chat for two turns in the same agent session', async () => {
    const { page, screenshot } = await asAdmin();
    await page.goto('/chat');
    await page.getByLabel('First message').fill('remember a word');
    await page.getByLabel('Scenario (scripted model)').selectOption('remember');
    await page.getByRole('button', { name: 'Start conversation' }).click();
    await page.waitForURL(/\/chat\/c[a-z0-9]+$/);
    const thread = page.getByRole('log', { name: 'Messages' });
    await thread.locator('[data-role="assistant"]').first().waitFor();
    expect(await thread.locator('[data-role="assistant"]').first().textContent()).toContain(
      'The secret word is PAPAYA.',
    );
    await page.getByRole('textbox', { name: 'Message' }).fill('what was the word?');
    await page.getByLabel('Scenario (scripted model)').selectOption('remember');
    await page.getByRole('button', { name: 'Send' }).click();
    await thread.locator('[data-role="assistant"]').nth(1).waitFor();
    // The second turn resumed the session: it quotes the first answer.
    expect(await thread.locator('[data-role="assistant"]').nth(1).textContent()).toContain(
      'Earlier I said: "The secret word is PAPAYA."',
    );
    expect(await thread.locator('[data-role="user"]').count()).toBe(2);
    await screenshot('chat');
  });

  it('should create a token, show it once, and revoke it', async () => {
    const { page, screenshot } = await asAdmin();
    await page.goto('/settings');
    await page.getByLabel('Name').first().fill('ci script');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('new-token').textContent())!.trim();
    expect(token).toMatch(/^hgr_/);
    expect((await suite.hangar.api('GET', '/api/v1/auth/me', undefined, token)).status).toBe(200);
    await screenshot('settings');
    await page.getByRole('button', { name: 'Revoke ci script' }).click();
    await page
      .getByRole('table', { name: 'Tokens' })
      .getByText(/^revoked/)
      .waitFor();
    expect(await page.getByTestId('new-token').count()).toBe(0);
    expect((await suite.hangar.api('GET', '/api/v1/auth/me', undefined, token)).status).toBe(401);
  });

  it('should let an admin allow a git host with a credential it never shows again, and refuse a bad host', async () => {
    const current = await asAdmin();
    const { page, screenshot } = current;
    await page.goto('/settings');
    const form = page.getByRole('form', { name: 'Allow a git host' });
    // Until the project has its own list, the installation's applies, and the page says so.
    await page.getByTestId('installation-hosts').waitFor();
    await form.getByLabel('Host').fill('not a host!');
    const before = current.errors.length;
    await form.getByRole('button', { name: 'Allow host' }).click();
    await page.getByRole('alert').filter({ hasText: 'items.0.host' }).waitFor();
    // Chromium logs the refused request's 400 itself: that one line is forgiven.
    const after = current.errors.splice(before);
    current.errors.push(...after.filter((error) => !/status of 400/.test(error)));
    expect(
      (await suite.hangar.api<GitHostList>('GET', '/api/v1/projects/default/git-hosts')).body.items,
    ).toEqual([]);

    await form.getByLabel('Host').fill('Git.Example.com:8443');
    await form.getByLabel('User name').fill('x-access-token');
    await form.getByLabel('Token').fill('glpat-browser-secret-0123');
    await form.getByRole('button', { name: 'Allow host' }).click();
    const table = page.getByRole('table', { name: 'Git hosts' });
    await table.getByText('git.example.com:8443').waitFor();
    expect(await table.locator('tbody tr').first().textContent()).toContain('set');
    expect(await page.content()).not.toContain('glpat-browser-secret-0123');
    await screenshot('git-hosts');
    const stored = await suite.hangar.api<GitHostList>('GET', '/api/v1/projects/default/git-hosts');
    expect(stored.body.items).toEqual([{ host: 'git.example.com:8443', hasCredential: true }]);

    // A second host keeps the first one's credential; removing it hands back the installation's list.
    await form.getByLabel('Host').fill('gitlab.com');
    await form.getByRole('button', { name: 'Allow host' }).click();
    await table.getByText('gitlab.com').waitFor();
    expect(
      (await suite.hangar.api<GitHostList>('GET', '/api/v1/projects/default/git-hosts')).body.items,
    ).toEqual([
      { host: 'git.example.com:8443', hasCredential: true },
      { host: 'gitlab.com', hasCredential: false },
    ]);
    await page.getByRole('button', { name: 'Remove git.example.com:8443' }).click();
    await table.getByText('git.example.com:8443').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Remove gitlab.com' }).click();
    await page.getByTestId('installation-hosts').waitFor();
    expect(
      (await suite.hangar.api<GitHostList>('GET', '/api/v1/projects/default/git-hosts')).body.items,
    ).toEqual([]);
  });

  it('should show a viewer no Cancel button and no New task', async () => {
    const viewer = { email: 'viewer@suite.hangar.test', password: 'viewer-password-1' };
    // Users are managed by a signed-in instance administrator (tokens cannot).
    const login = await fetch(`${suite.hangar.stack.gatewayUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(suite.hangar.admin),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const asAdminUser = (method: string, route: string, body: unknown) =>
      fetch(`${suite.hangar.stack.gatewayUrl}${route}`, {
        method,
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const made = await asAdminUser('POST', '/api/v1/users', { ...viewer, name: 'Viewer' });
    expect(made.status).toBe(201);
    const { id: userId } = (await made.json()) as { id: string };
    expect(
      (await asAdminUser('PUT', `/api/v1/projects/default/members/${userId}`, { role: 'viewer' })).status,
    ).toBe(200);
    const running = (
      await suite.hangar.api<Task>('POST', '/api/v1/tasks', { prompt: 'take your time', scenario: 'slow' })
    ).body;

    const current = await suite.open({ width: 390, height: 844 });
    const { page, screenshot } = current;
    await signIn(page, viewer.email, viewer.password);
    await page.goto(`/tasks/${running.id}`);
    await page
      .getByTestId('task-status')
      .getByText(/RUNNING|QUEUED/)
      .waitFor();
    await page.getByRole('log', { name: 'Agent transcript' }).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    await screenshot('viewer-task-phone');
    await page.goto('/tasks');
    await page.getByRole('table', { name: 'Tasks' }).waitFor();
    expect(await page.getByRole('link', { name: 'New task' }).count()).toBe(0);
    await suite.hangar.api('POST', `/api/v1/tasks/${running.id}/cancel`);
  });

  it('should show every page with its data, in both themes and at a phone width', async () => {
    const { page, screenshot } = await asAdmin();
    // Something to show: a finished task with a tool call and a cost.
    const done = (
      await suite.hangar.api<Task>('POST', '/api/v1/tasks', { prompt: 'tour task', scenario: 'write-file' })
    ).body;
    await page.goto(`/tasks/${done.id}`);
    await page.getByTestId('task-status').getByText('COMPLETED').waitFor();

    await page.goto('/tasks/new');
    await page
      .getByLabel('Scenario (scripted model)')
      .locator('option', { hasText: 'write-file' })
      .waitFor({ state: 'attached' });
    await screenshot('new-task');

    // Analytics count a task once the metrics service has stored its sample (as it reads the
    // record its ending sent): the page shows what the API says once the tour task is in both.
    const analyticsTasks = async () =>
      (await suite.hangar.api<{ totals: { tasks: number } }>('GET', '/api/v1/analytics?project=default')).body
        .totals.tasks;
    let counted = -1;
    let stored = 0;
    for (const deadline = Date.now() + 30_000; counted !== stored || stored === 0;) {
      if (Date.now() > deadline) throw new Error(`analytics: the page shows ${counted}, the API ${stored}`);
      stored = await analyticsTasks();
      if (stored === 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      await page.goto('/analytics');
      await page.getByTestId('analytics-tasks').waitFor();
      counted = Number(await page.getByTestId('analytics-tasks').textContent());
    }
    expect(counted).toBeGreaterThan(0);
    await page
      .getByRole('table', { name: 'By profile' })
      .getByRole('cell', { name: 'default', exact: true })
      .waitFor();
    await page.locator('.recharts-surface').first().waitFor();
    await screenshot('analytics');

    await page.goto('/runners');
    await page.getByRole('table', { name: 'Runners' }).waitFor();
    // The stack's runner registered its pool, with what it offers.
    const pools = page.getByRole('table', { name: 'Runner pools' });
    await pools.getByRole('cell', { name: 'default', exact: true }).waitFor();
    await pools.getByRole('cell', { name: /executor=process, pool=default, claude/ }).waitFor();
    await screenshot('runners');

    await page.goto('/profiles');
    await page
      .getByRole('table', { name: 'Profiles' })
      .getByRole('cell', { name: 'default', exact: true })
      .first()
      .waitFor();
    await page.getByLabel('Name').fill('reviewer');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await page
      .getByRole('table', { name: 'Profiles' })
      .getByRole('cell', { name: 'reviewer', exact: true })
      .waitFor();
    // A profile that trusts the repository's settings says so where it is listed. Only a
    // signed-in instance admin may make one: the page's own session does.
    const trusting = await page.evaluate(async () => {
      const response = await fetch('/api/v1/profiles', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'trusting',
          trustRepositorySettings: true,
          internetAccess: true,
          telemetryContent: true,
        }),
      });
      return response.status;
    });
    expect(trusting).toBe(201);
    await page.reload();
    const trustingRow = page.getByRole('table', { name: 'Profiles' }).getByRole('row', { name: /trusting/ });
    await trustingRow.getByText('trusts repository settings').waitFor();
    await expect(trustingRow.getByRole('cell', { name: 'allowed', exact: true }).count()).resolves.toBe(1);
    const reviewerRow = page.getByRole('table', { name: 'Profiles' }).getByRole('row', { name: /reviewer/ });
    await expect(reviewerRow.getByText('trusts repository settings').count()).resolves.toBe(0);
    // So does one whose agents' telemetry logs their prompts.
    await trustingRow.getByText('logs prompts').waitFor();
    await expect(reviewerRow.getByText('logs prompts').count()).resolves.toBe(0);
    await screenshot('profiles');

    await page.goto('/integrations');
    await page.getByRole('heading', { name: 'Recent deliveries' }).waitFor();
    await screenshot('webhooks');

    await page.goto('/');
    await page.getByRole('heading', { name: 'Latest tasks' }).waitFor();
    await page.getByRole('link', { name: 'tour task' }).waitFor();
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.reload();
    // The choice holds across a reload, before the first paint.
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.getByRole('link', { name: 'tour task' }).waitFor();
    await screenshot('overview-dark');
    await page.goto(`/tasks/${done.id}`);
    await page.getByRole('log', { name: 'Agent transcript' }).locator('[data-tool="Write"]').waitFor();
    await screenshot('task-detail-dark');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/tasks');
    await page.getByRole('table', { name: 'Tasks' }).waitFor();
    // Nothing wider than the phone but the tables' own scrolling boxes.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot('tasks-phone');
  });

  it('should show an alert rule firing and what it fired, and silence it for an hour', async () => {
    const { page, screenshot } = await asAdmin();
    const rule = (
      await suite.hangar.api<AlertRule>('POST', '/api/v1/alerts/rules?project=default', {
        name: 'Any task ended',
        series: 'task.ended',
        threshold: 0,
        windowMinutes: 60,
        severity: 'info',
      })
    ).body;
    const task = (
      await suite.hangar.api<Task>('POST', '/api/v1/tasks', { prompt: 'alert task', scenario: 'reply' })
    ).body;
    // The metrics service evaluates every second here (ALERTS_EVALUATE_SECONDS): the rule fires
    // once the task's sample is stored.
    for (const deadline = Date.now() + 60_000; ;) {
      const rules = (
        await suite.hangar.api<{ items: AlertRule[] }>('GET', '/api/v1/alerts/rules?project=default')
      ).body.items;
      if (rules.find((item) => item.id === rule.id)?.state === 'firing') break;
      if (Date.now() > deadline)
        throw new Error(`the rule did not fire for task ${task.id}: ${JSON.stringify(rules)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // An hour of the default profile far outside its usual hours, as the metrics service stores one.
    execFileSync('psql', [
      suite.hangar.stack.database.url,
      '-qc',
      `INSERT INTO anomalies (id, hour, project, profile, metric, value, median, mad, score, baseline_tasks, at)
       VALUES ('hour-anomaly', date_trunc('hour', now()) - interval '1 hour', 'default', 'default',
               'hour_failure_rate', 0.8, 0.1, 0, 8, 30, date_trunc('hour', now()))`,
    ]);
    await page.getByRole('link', { name: 'Alerts' }).click();
    const hour = page
      .getByRole('table', { name: 'Anomalies' })
      .getByRole('row')
      .filter({ hasText: 'the hour from' });
    await hour.getByText('80% failed').waitFor();
    await hour.getByText('of 30 hours').waitFor();
    const row = page.getByRole('table', { name: 'Alert rules' }).locator('tr[data-rule="Any task ended"]');
    await row.getByTestId('rule-state').getByText('firing').waitFor();
    await page
      .getByRole('table', { name: 'Alert firings' })
      .getByRole('cell', { name: 'Any task ended', exact: true })
      .first()
      .waitFor();
    await screenshot('alerts');
    await row.getByRole('button', { name: 'Silence 1 h' }).click();
    await row.getByText(/^until /).waitFor();
    const silences = (
      await suite.hangar.api<{ items: AlertSilence[] }>('GET', '/api/v1/alerts/silences?project=default')
    ).body.items;
    expect(silences.map((silence) => [silence.rule, silence.comment])).toEqual([
      [rule.id, 'from the dashboard'],
    ]);
    expect(await row.getByRole('button', { name: 'Silence 1 h' }).count()).toBe(0);
  });

  it('should keep to its own origin: a strict CSP, no remote image loaded, sign-in never leaves', async () => {
    const current = await suite.open();
    const { page } = current;
    // Every request the page makes, to prove the agent's image was never fetched.
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));

    // A sign-in link crafted to go elsewhere (`/\\evil.com` once decoded) comes back home.
    const document = await page.goto('/login?next=/%5Cevil.example');
    const headers = document!.headers();
    expect(headers['content-security-policy']).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
    expect(headers['content-security-policy']).toContain("img-src 'self' data:");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('same-origin');
    await page.getByLabel('Email').fill(suite.hangar.admin.email);
    await page.getByLabel('Password').fill(suite.hangar.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Overview/ }).waitFor();
    expect(new URL(page.url()).origin).toBe(new URL(suite.hangar.url).origin);
    expect(new URL(page.url()).pathname).toBe('/');

    // Markdown in a conversation with an image pointing elsewhere: shown as a link, not loaded.
    const leak = 'http://127.0.0.1:9/leak.png';
    const created = await suite.hangar.api<{ conversation: { id: string } }>(
      'POST',
      '/api/v1/conversations',
      {
        message: `Show this: ![x](${leak})`,
        scenario: 'reply',
      },
    );
    await page.goto(`/chat/${created.body.conversation.id}`);
    const thread = page.getByRole('log', { name: 'Messages' });
    await thread.locator('[data-role="assistant"]').first().waitFor();
    expect(await thread.getByRole('link', { name: '[image: x]' }).getAttribute('href')).toBe(leak);
    expect(await thread.locator('img').count()).toBe(0);
    expect(requested.filter((url) => new URL(url).host === '127.0.0.1:9')).toEqual([]);
  });

  it('should be usable from the keyboard: skip link, then the navigation', async () => {
    const { page } = await asAdmin();
    await page.goto('/tasks');
    await page.getByRole('table', { name: 'Tasks' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Overview');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Overview/ }).waitFor();
  });
});
