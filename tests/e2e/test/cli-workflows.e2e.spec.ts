import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Workflow, WorkflowRun, WorkflowRunPage } from '@hangar/contracts';
import { REPO_ROOT, ServiceStack } from '@hangar/testing';
import { request } from './support';

const CLI = path.join(REPO_ROOT, 'apps/cli/dist/main.js');

// A definition with a cycle and a template naming an input it does not declare.
const BROKEN = `
name: broken
steps:
  - id: a
    needs: [b]
    prompt: "A {{inputs.nope}}"
  - id: b
    needs: [a]
    prompt: B
`;

// Two agent steps in a row on the scripted model, and a typed input.
const GREET = `
name: greet
description: Say hello twice
inputs:
  who: { type: string }
  times: { type: number, default: 1 }
steps:
  - id: hello
    prompt: "Say hello to {{inputs.who}}, {{inputs.times}} time(s)"
    scenario: reply
  - id: again
    needs: [hello]
    prompt: "Again: {{steps.hello.output}}"
    scenario: reply
outputs:
  greeting: "{{steps.again.output}}"
`;

const FAILING = `
name: doomed
steps:
  - id: try
    prompt: Try it
    scenario: fail
  - id: never
    needs: [try]
    prompt: Never runs
    scenario: reply
`;

// A draft, a person's approval, then the shipping.
const GATED = `
name: gated
steps:
  - id: draft
    prompt: Draft it
    scenario: reply
  - id: gate
    type: approval
    needs: [draft]
    message: "Ship this? {{steps.draft.output}}"
  - id: ship
    needs: [gate]
    prompt: Ship it
    scenario: reply
`;

const REPLY = 'Hello from the Hangar scripted model.';

interface Result {
  code: number | null;
  stdout: string[];
  stderr: string[];
}

// `hangar workflow …` as a user runs it: the built CLI, a pipe for stdout (so plain lines), against
// a whole stack (gateway, websocket-pool, orchestrator, runner, scripted model).
describe('hangar workflow', () => {
  let stack: ServiceStack;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await ServiceStack.create('cli_workflows');
    await stack.start();
    env = {
      PATH: process.env.PATH ?? '',
      HOME: stack.dataDir,
      HANGAR_HOME: path.join(stack.dataDir, '.hangar'),
      HANGAR_API_URL: stack.gatewayUrl,
      HANGAR_WS_URL: stack.websocketUrl,
      HANGAR_TOKEN: stack.adminToken,
    };
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  // The command running; `line` resolves with the first stdout line that matches.
  function start(...args: string[]) {
    const child = spawn(process.execPath, [CLI, 'workflow', ...args], {
      cwd: stack.dataDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: string[] = [];
    const stderr: string[] = [];
    const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout.push(line);
      for (const waiter of waiters.filter((candidate) => candidate.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
    const exited = once(child, 'close').then(([code]) => ({
      code: code as number | null,
      stdout: stdout.filter((line) => line !== ''),
      stderr: stderr.filter((line) => line !== ''),
    }));
    const line = (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const seen = stdout.find((candidate) => pattern.test(candidate));
        if (seen !== undefined) return resolve(seen);
        waiters.push({ pattern, resolve });
        void exited.then((result) =>
          reject(
            new Error(
              `exited ${result.code} without printing ${pattern}:\n${[...result.stdout, ...result.stderr].join('\n')}`,
            ),
          ),
        );
      });
    return { exited, line };
  }

  const hangar = (...args: string[]): Promise<Result> => start(...args).exited;

  function file(name: string, text: string): string {
    const at = path.join(stack.dataDir, name);
    writeFileSync(at, text);
    return at;
  }

  async function workflowNamed(name: string): Promise<Workflow | undefined> {
    const list = (await request(stack, 'GET', '/api/v1/workflows')).body as { items: Workflow[] };
    return list.items.find((workflow) => workflow.name === name);
  }

  it('should print each problem of a bad YAML definition on its own line, exit 1 and store nothing', async () => {
    const result = await hangar('create', file('broken.yaml', BROKEN));
    expect(result.code).toBe(1);
    expect(result.stderr.slice(0, 2)).toEqual([
      'error: steps.0.needs: makes a cycle: a → b → a',
      'error: steps.0.prompt: names inputs.nope, which the workflow does not declare (in {{inputs.nope}})',
    ]);
    expect(result.stderr[2]).toMatch(/^\(HTTP 400, INVALID_WORKFLOW/);
    expect(await workflowNamed('broken')).toBeUndefined();
  });

  it('should list the templates and create a workflow from plan-do-review under a new name', async () => {
    const templates = await hangar('templates');
    expect(templates.code).toBe(0);
    expect(templates.stdout[0]).toMatch(/^NAME\s+INPUTS\s+DESCRIPTION$/);
    expect(templates.stdout.some((line) => /^plan-do-review\s+goal\s+A manager plans/.test(line))).toBe(true);

    const created = await hangar('create', '--template', 'plan-do-review', '--name', 'ship-it');
    expect(created).toMatchObject({ code: 0, stderr: [] });
    const stored = await workflowNamed('ship-it');
    expect(stored).toMatchObject({ version: 1, definition: { inputs: { goal: { type: 'string' } } } });
    expect(created.stdout).toEqual([`created workflow ship-it v1 (${stored!.id})`]);

    const listed = await hangar('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContainEqual(expect.stringMatching(/^ship-it\s+v1\s+A manager plans/));

    const again = await hangar('create', '--template', 'plan-do-review', '--name', 'ship-it');
    expect(again.code).toBe(1);
    expect(again.stderr[0]).toContain('has a workflow named "ship-it" already');
  });

  it('should refuse --input values that do not fit their declared type before starting anything', async () => {
    const greet = file('greet.yaml', GREET);
    const bad = await hangar(
      'run',
      greet,
      '--input',
      'who=world',
      '--input',
      'times=twice',
      '--input',
      'mood=ok',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toEqual([
      'error: --input times: must be a number — got "twice"',
      'error: --input mood: not an input of workflow "greet" (its inputs: who, times)',
    ]);
    // Refused before the file was stored, and nothing ran.
    expect(await workflowNamed('greet')).toBeUndefined();

    const missing = await hangar('run', greet, '--input-json', 'times="2"');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toEqual([
      'error: --input-json times: must be a number — got a string',
      'error: --input who: is required (string): give it with --input who=…',
    ]);
  });

  it('should store a YAML file, run it with --follow, show each step as it changes and exit 0', async () => {
    const result = await hangar(
      'run',
      file('greet.yaml', GREET),
      '--input',
      'who=world',
      '--input',
      'times=2',
      '--follow',
    );
    expect(result.stderr).toEqual(['created workflow greet v1']);
    expect(result.code).toBe(0);
    const [header, ...rest] = result.stdout;
    const runId = /^workflow run (\S+) · greet v1$/.exec(header ?? '')?.[1];
    expect(runId).toBeDefined();
    // One plain line per change (stdout is a pipe): no colors, no redrawing.
    expect(result.stdout.join('\n')).not.toContain('\u001b[');
    const steps = rest.filter((line) => /^[●✓✗◷↷■] /.test(line));
    const hello = steps.indexOf(`✓ hello completed · ${REPLY}`);
    const again = steps.indexOf(`✓ again completed · ${REPLY}`);
    expect(hello).toBeGreaterThanOrEqual(0);
    expect(again).toBeGreaterThan(hello);
    // Each change once; a step may be seen running before it completes.
    for (const line of steps)
      expect(['● hello running', '● again running', steps[hello], steps[again]]).toContain(line);
    expect(new Set(steps).size).toBe(steps.length);
    const summary = rest.slice(rest.indexOf(steps[again]!) + 1);
    expect(summary[0]).toMatch(/^COMPLETED · \$\d+\.\d{4} · [\d.]+m?s$/);
    expect(summary.slice(1)).toEqual(['outputs', `  greeting  ${REPLY}`]);

    const run = (await request(stack, 'GET', `/api/v1/workflow-runs/${runId}`)).body as WorkflowRun;
    expect(run).toMatchObject({ status: 'COMPLETED', inputs: { who: 'world', times: 2 } });

    // The same file again is the same version: nothing new is stored.
    const same = await hangar('run', file('greet.yaml', GREET), '--input', 'who=you');
    expect(same.code).toBe(0);
    expect(same.stderr[0]).toBe('workflow greet v1 is unchanged');
    const changed = await hangar(
      'run',
      file('greet.yaml', GREET.replace('Say hello twice', 'Say hello, twice')),
      '--input',
      'who=you',
    );
    expect(changed.stderr[0]).toBe('workflow greet is now v2');
    expect(changed.stdout).toEqual([expect.stringMatching(/^c[a-z0-9]+$/)]);
  });

  it('should show a failed run with its error and exit 1', async () => {
    const result = await hangar('run', file('doomed.yaml', FAILING), '--follow');
    expect(result.code).toBe(1);
    expect(result.stdout).toContainEqual(expect.stringMatching(/^✗ try failed · /));
    // What becomes of a step after a failure is the engine's to say: it never ran.
    expect(result.stdout).toContainEqual(expect.stringMatching(/^(■ never cancelled|↷ never skipped)/));
    expect(result.stdout).toContainEqual(expect.stringMatching(/^FAILED · /));
    expect(result.stdout).toContainEqual(expect.stringMatching(/^error: step-failed: try: /));
  });

  it('should show an approval waiting, and go on once it is approved', async () => {
    const following = start('run', file('gated.yaml', GATED), '--follow');
    const header = await following.line(/^workflow run /);
    const runId = /^workflow run (\S+) /.exec(header)![1]!;
    expect(await following.line(/^◷ gate waiting/)).toBe(
      `◷ gate waiting · Ship this? ${REPLY} — hangar workflow approve|reject ${runId} gate`,
    );
    const approved = await hangar('approve', runId, 'gate', '--comment', 'looks right');
    expect(approved).toMatchObject({
      code: 0,
      stdout: [`approved step gate of workflow run ${runId}; the run goes on shortly`],
    });
    const result = await following.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContainEqual(
      expect.stringMatching(/^✓ gate completed · approved by token:.+: looks right$/),
    );
    expect(result.stdout).toContain(`✓ ship completed · ${REPLY}`);
    expect(result.stdout).toContainEqual(expect.stringMatching(/^COMPLETED · /));
  });

  it('should end a followed run that is cancelled, exiting 1', async () => {
    const following = start('run', 'gated', '--follow');
    const runId = /^workflow run (\S+) /.exec(await following.line(/^workflow run /))![1]!;
    await following.line(/^◷ gate waiting/);
    const cancelled = await hangar('cancel', runId);
    expect(cancelled.code).toBe(0);
    const result = await following.exited;
    expect(result.code).toBe(1);
    expect(result.stdout).toContainEqual(expect.stringMatching(/^CANCELLED · /));
    expect(result.stdout).toContainEqual(expect.stringMatching(/^error: cancelled: by token:/));
  });

  it('should show a run with its steps, by id', async () => {
    const workflow = (await workflowNamed('greet'))!;
    const runs = (await request(stack, 'GET', `/api/v1/workflows/${workflow.id}/runs?status=COMPLETED`))
      .body as WorkflowRunPage;
    const runId = runs.items.at(-1)!.id;
    const shown = await hangar('status', runId);
    expect(shown.code).toBe(0);
    expect(shown.stdout.slice(0, 3)).toEqual([
      `workflow run ${runId} · greet v1`,
      `  ✓ hello  completed  ${REPLY}`,
      `  ✓ again  completed  ${REPLY}`,
    ]);
    expect(shown.stdout).toContain('inputs    {"who":"world","times":2}');

    const gone = await hangar('status', 'nope');
    expect(gone.code).toBe(1);
    expect(gone.stderr[0]).toBe('error: workflow run nope does not exist');
  });
});
