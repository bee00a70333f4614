import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, REPO_ROOT, ServiceStack } from '@hangar/testing';
import { startNginx, type Nginx } from '@hangar/testing/nginx';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CLI = path.join(REPO_ROOT, 'apps/cli/dist/main.js');
// Each test's screenshots; docs/dashboard.md shows copies of them.
export const OUTPUT_DIR = path.join(__dirname, '..', 'test-output');

// The whole stack as the README starts it: `hangar up`, with the dashboard, the five services
// and the scripted model (no model key), on free ports with a database of its own. With
// `behindNginx`, the real NGINX serves it all on one origin (deploy/nginx/hangar.conf, as in
// production): the dashboard's browser code then reaches Socket.IO on its own origin.
export class Hangar {
  private up: ChildProcess | undefined;
  private nginx: Nginx | undefined;
  readonly output: string[] = [];
  dashboardUrl = '';
  repository = '';

  private constructor(readonly stack: ServiceStack) {}

  // Where a person opens Hangar: NGINX when it is in front, else the dashboard itself.
  get url(): string {
    return this.nginx?.url ?? this.dashboardUrl;
  }

  static async start(options: { behindNginx?: boolean } = {}): Promise<Hangar> {
    const stack = await ServiceStack.create('browser');
    const hangar = new Hangar(stack);
    const dashboardPort = await freePort();
    hangar.dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
    const repos = path.join(stack.dataDir, 'repos');
    hangar.repository = makeRepository(path.join(repos, 'app'));
    const env = stack.environment({
      DASHBOARD_PORT: String(dashboardPort),
      WORKSPACE_ALLOWED_LOCAL_ROOTS: repos,
      HANGAR_HOME: path.join(stack.dataDir, '.hangar'),
      // Alert rules evaluated every second, not every 30: a rule's state shows soon.
      ALERTS_EVALUATE_SECONDS: '1',
      // Every request here comes from one address (the browser, the tests' own API calls, which
      // poll): over a minute the suite can pass the 300 a minute one address may make, and a
      // later page is then answered 429. The limit has its own tests (rate-limit.e2e.spec.ts).
      RATE_LIMIT_IP_PER_MINUTE: '0',
    });
    delete env.SCRIPTED_MODEL_URL; // `up` starts its own scripted model when no key is set
    // Empty: the browser reaches Socket.IO on the page's own origin (NGINX routes /socket.io/).
    if (options.behindNginx) env.HANGAR_PUBLIC_WS_URL = '';
    const up = spawn(process.execPath, [CLI, 'up'], {
      cwd: stack.dataDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    hangar.up = up;
    up.stderr.on('data', (chunk: Buffer) => hangar.output.push(chunk.toString('utf8')));
    const lines = createInterface({ input: up.stdout });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        hangar.output.push(line);
        if (line.trim().startsWith('curl ') && hangar.output.some((seen) => seen.includes('hangar is up')))
          resolve();
      });
      up.once('exit', (code) => reject(new Error(`hangar up exited ${code}:\n${hangar.output.join('\n')}`)));
    });
    if (!hangar.output.some((line) => line.includes(hangar.dashboardUrl)))
      throw new Error(`hangar up did not start the dashboard:\n${hangar.output.join('\n')}`);
    if (options.behindNginx) {
      hangar.nginx = await startNginx({
        dir: path.join(stack.dataDir, 'nginx'),
        port: await freePort(),
        gateway: stack.ports.get('gateway')!,
        pools: [stack.ports.get('websocket-pool')!],
        dashboard: dashboardPort,
      });
    }
    return hangar;
  }

  get admin() {
    return this.stack.admin;
  }

  // The REST API as a script sees it, with the administrator's token.
  async api<T>(
    method: string,
    route: string,
    body?: unknown,
    token = this.stack.adminToken,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.stack.gatewayUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async stop() {
    await this.nginx?.stop();
    if (this.up && this.up.exitCode === null) {
      this.up.kill('SIGINT');
      const timer = setTimeout(() => this.up?.kill('SIGKILL'), 15_000);
      await once(this.up, 'exit');
      clearTimeout(timer);
    }
    await this.stack.dispose();
  }
}

function makeRepository(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Test',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 'Test',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
    });
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(dir, 'README.md'), '# app\n');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  return dir;
}

// Debian's Chromium, headless; background networking off (this machine has no internet).
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// A page whose console errors and uncaught exceptions are collected: every test ends by
// asserting there were none.
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  errors: string[];
  screenshot: (name: string) => Promise<void>;
}

export async function openPage(
  browser: Browser,
  baseURL: string,
  viewport = { width: 1280, height: 860 },
): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${page.url()})`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message} (${page.url()})`));
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return {
    context,
    page,
    errors,
    screenshot: async (name) => {
      await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}.png`), fullPage: true });
    },
  };
}

export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

// The New task form, filled and sent; the new task's id from the page it lands on.
export async function startTask(page: Page, prompt: string, scenario: string, repository?: string) {
  await page.goto('/tasks/new');
  await page.getByLabel('Prompt').fill(prompt);
  await page.getByLabel('Scenario (scripted model)').selectOption(scenario);
  if (repository) await page.getByLabel('Repository (git URL)').fill(repository);
  await page.getByRole('button', { name: 'Start task' }).click();
  await page.waitForURL(/\/tasks\/c[a-z0-9]+$/);
  return page.url().split('/').pop()!;
}

// One stack and one browser for a spec file. `open` gives each test its page (on the stack's
// address unless told); after the test its context closes, and the test fails on any console
// error or uncaught exception that page saw.
export function browserSuite(options: { behindNginx?: boolean } = {}) {
  let current: WatchedPage | undefined;
  const suite = {
    hangar: undefined as unknown as Hangar,
    browser: undefined as unknown as Browser,
    async open(viewport?: { width: number; height: number }): Promise<WatchedPage> {
      current = await openPage(suite.browser, suite.hangar.url, viewport);
      return current;
    },
    // A page signed in as the administrator.
    async asAdmin(): Promise<WatchedPage> {
      const watched = await suite.open();
      await signIn(watched.page, suite.hangar.admin.email, suite.hangar.admin.password);
      return watched;
    },
  };
  beforeAll(async () => {
    [suite.hangar, suite.browser] = await Promise.all([Hangar.start(options), launchBrowser()]);
  }, 600_000);
  afterAll(async () => {
    await suite.browser?.close();
    await suite.hangar?.stop();
  });
  afterEach(async () => {
    const watched = current;
    current = undefined;
    await watched?.context.close();
    expect(watched?.errors ?? []).toEqual([]);
  });
  return suite;
}
