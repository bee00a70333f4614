import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowDefinitionSchema } from '@hangar/contracts';
import { runCli } from '../src/cli';
import { FakeGateway, type Handler, type RecordedRequest } from './support/fake-gateway';
import { testContext } from './support/test-context';

const DEFINITION = WorkflowDefinitionSchema.parse({
  name: 'fix',
  description: 'Fix a bug',
  inputs: { goal: { type: 'string' }, rounds: { type: 'number', default: 2 } },
  steps: [{ id: 'plan', prompt: 'Plan {{inputs.goal}}' }],
});

const YAML_FILE = `
name: fix
description: Fix a bug
inputs:
  goal: { type: string }
  rounds: { type: number, default: 2 }
steps:
  - id: plan
    prompt: "Plan {{inputs.goal}}"
`;

function workflowJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'wf-1',
    project: 'default',
    name: 'fix',
    description: 'Fix a bug',
    version: 1,
    definition: DEFINITION,
    createdBy: 'token:admin',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function runJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'run-1',
    workflowId: 'wf-1',
    workflow: 'fix',
    version: 1,
    project: 'default',
    status: 'RUNNING',
    inputs: { goal: 'x', rounds: 2 },
    outputs: null,
    error: null,
    costUsd: 0,
    budgetUsd: null,
    deadlineAt: null,
    createdBy: 'token:admin',
    createdAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    steps: [],
    ...overrides,
  };
}

const INVALID = {
  status: 400,
  contentType: 'application/problem+json',
  body: {
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
    detail: 'workflow "fix" is not valid',
    code: 'INVALID_WORKFLOW',
    traceId: 'trace-1',
    errors: [
      { field: 'steps.0.needs', message: 'makes a cycle: a → b → a' },
      { field: 'steps.1.prompt', message: 'names inputs.nope, which is not declared' },
    ],
  },
};

describe('hangar workflow', () => {
  let gateway: FakeGateway | undefined;
  let folder: string;
  const start = async (handler: Handler): Promise<string> => {
    gateway = new FakeGateway(handler);
    return gateway.start();
  };
  const writes = () => gateway!.requests.filter((request) => request.method !== 'GET');
  // The gateway's workflows: `existing` answers the list; creates, updates and runs succeed.
  const workflowsApi =
    (existing: Record<string, unknown>[]) =>
    (request: RecordedRequest): ReturnType<Handler> => {
      if (request.method === 'GET' && request.url.startsWith('/api/v1/workflows?'))
        return { status: 200, body: { items: existing } };
      if (request.method === 'GET' && request.url === '/api/v1/workflows')
        return { status: 200, body: { items: existing } };
      if (request.method === 'POST' && request.url.startsWith('/api/v1/workflows/wf-1/runs'))
        return { status: 201, body: runJson() };
      if (request.method === 'POST' && request.url.startsWith('/api/v1/workflows'))
        return { status: 201, body: workflowJson({ definition: request.body }) };
      if (request.method === 'PUT') return { status: 200, body: workflowJson({ version: 2 }) };
      return { status: 404, body: {} };
    };

  beforeEach(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'hangar-cli-workflow-'));
  });

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    rmSync(folder, { recursive: true, force: true });
  });

  it('should refuse an input of the wrong type before anything is started', async () => {
    const api = await start(workflowsApi([workflowJson()]));
    const context = testContext();
    const code = await runCli(
      ['workflow', 'run', 'fix', '--input', 'goal=x', '--input', 'rounds=ten', '--api', api],
      context,
    );
    expect(code).toBe(1);
    expect(context.io.stderr).toEqual(['error: --input rounds: must be a number — got "ten"']);
    expect(writes()).toEqual([]);
  });

  it('should start a run of a workflow by name with typed inputs and print its id', async () => {
    const api = await start(workflowsApi([workflowJson()]));
    const context = testContext();
    const code = await runCli(
      ['workflow', 'run', 'fix', '-i', 'goal=x', '--input-json', 'rounds=3', '--api', api],
      context,
    );
    expect(code).toBe(0);
    expect(writes()).toEqual([
      { method: 'POST', url: '/api/v1/workflows/wf-1/runs', body: { inputs: { goal: 'x', rounds: 3 } } },
    ]);
    expect(context.io.stdout).toEqual(['run-1']);
    expect(context.io.stderr).toEqual(['running · fix v1; see it with: hangar workflow status run-1']);
  });

  it('should create a workflow from a YAML file it runs, when its name is new', async () => {
    const file = path.join(folder, 'fix.yaml');
    writeFileSync(file, YAML_FILE);
    const api = await start(workflowsApi([]));
    const context = testContext();
    expect(await runCli(['workflow', 'run', file, '--input', 'goal=x', '--api', api], context)).toBe(0);
    expect(writes()).toEqual([
      { method: 'POST', url: '/api/v1/workflows', body: DEFINITION },
      { method: 'POST', url: '/api/v1/workflows/wf-1/runs', body: { inputs: { goal: 'x' } } },
    ]);
    expect(context.io.stderr[0]).toBe('created workflow fix v1');
  });

  it('should store a new version only when the file differs from the newest', async () => {
    const file = path.join(folder, 'fix.json');
    writeFileSync(file, JSON.stringify(DEFINITION));
    const api = await start(workflowsApi([workflowJson()]));
    const same = testContext();
    expect(await runCli(['workflow', 'run', file, '--input', 'goal=x', '--api', api], same)).toBe(0);
    expect(writes().map((request) => request.method)).toEqual(['POST']);
    expect(same.io.stderr[0]).toBe('workflow fix v1 is unchanged');

    writeFileSync(file, JSON.stringify({ ...DEFINITION, description: 'Fix a bug, better' }));
    const changed = testContext();
    expect(await runCli(['workflow', 'run', file, '--input', 'goal=x', '--api', api], changed)).toBe(0);
    expect(writes().slice(1)).toEqual([
      {
        method: 'PUT',
        url: '/api/v1/workflows/wf-1',
        body: { ...DEFINITION, description: 'Fix a bug, better' },
      },
      { method: 'POST', url: '/api/v1/workflows/wf-1/runs', body: { inputs: { goal: 'x' } } },
    ]);
    expect(changed.io.stderr[0]).toBe('workflow fix is now v2');
  });

  it('should print each problem the gateway finds in a definition on its own line', async () => {
    const file = path.join(folder, 'bad.yml');
    writeFileSync(file, YAML_FILE);
    const api = await start(() => INVALID);
    const context = testContext();
    expect(await runCli(['workflow', 'create', file, '--api', api], context)).toBe(1);
    expect(context.io.stderr).toEqual([
      'error: steps.0.needs: makes a cycle: a → b → a',
      'error: steps.1.prompt: names inputs.nope, which is not declared',
      '(HTTP 400, INVALID_WORKFLOW, trace trace-1)',
    ]);
  });

  it('should refuse a file that is not YAML or not a definition, naming the line or the field', async () => {
    const api = await start(() => INVALID);
    const broken = path.join(folder, 'broken.yaml');
    writeFileSync(broken, 'name: fix\nsteps:\n  - id: plan\n   prompt: x\n');
    const context = testContext();
    expect(await runCli(['workflow', 'create', broken, '--api', api], context)).toBe(1);
    expect(context.io.stderr).toEqual([
      `error: ${broken}: Sequence item without - indicator at line 4, column 1`,
    ]);

    const shapeless = path.join(folder, 'shapeless.yaml');
    writeFileSync(shapeless, 'name: Fix It\nsteps:\n  - id: plan\n    prompt: x\n    retries: 3\n');
    const second = testContext();
    expect(await runCli(['workflow', 'create', shapeless, '--api', api], second)).toBe(1);
    expect(second.io.stderr).toEqual([
      'error: name: must be lowercase letters, digits and -',
      'error: steps.0.retries: Invalid input: expected object, received number',
    ]);
    expect(gateway!.requests).toEqual([]);
  });

  it('should create a workflow from a template under a new name', async () => {
    const api = await start((request) => {
      if (request.url === '/api/v1/workflows/templates')
        return {
          status: 200,
          body: {
            items: [{ name: 'plan-do-review', description: 'Plan, do, review', definition: DEFINITION }],
          },
        };
      return { status: 201, body: workflowJson({ name: 'mine', id: 'wf-2' }) };
    });
    const context = testContext();
    expect(
      await runCli(
        ['workflow', 'create', '--template', 'plan-do-review', '--name', 'mine', '--api', api],
        context,
      ),
    ).toBe(0);
    expect(writes()).toEqual([
      { method: 'POST', url: '/api/v1/workflows', body: { ...DEFINITION, name: 'mine' } },
    ]);
    expect(context.io.stdout).toEqual(['created workflow mine v1 (wf-2)']);

    const unknown = testContext();
    expect(await runCli(['workflow', 'create', '--template', 'nope', '--api', api], unknown)).toBe(1);
    expect(unknown.io.stderr).toEqual([
      'error: --template: there is no template "nope" (there are: plan-do-review)',
    ]);
  });

  it('should list workflows with their newest version and description', async () => {
    const api = await start(
      workflowsApi([
        workflowJson(),
        workflowJson({ id: 'wf-2', name: 'triage', version: 4, description: null }),
      ]),
    );
    const context = testContext();
    expect(await runCli(['workflow', 'list', '--api', api], context)).toBe(0);
    expect(context.io.stdout).toEqual([
      'NAME    VERSION  DESCRIPTION',
      'fix     v1       Fix a bug',
      'triage  v4',
    ]);
  });

  it('should show a run with its steps, outputs and inputs', async () => {
    const api = await start((request) => {
      if (request.url === '/api/v1/workflows/wf-1/versions')
        return {
          status: 200,
          body: {
            items: [
              { version: 1, definition: DEFINITION, createdBy: 'x', createdAt: '2026-01-01T00:00:00.000Z' },
            ],
          },
        };
      return {
        status: 200,
        body: runJson({
          status: 'COMPLETED',
          finishedAt: '2026-01-01T00:00:02.000Z',
          outputs: { answer: 'done' },
          steps: [
            {
              key: 'plan',
              stepId: 'plan',
              type: 'agent',
              iteration: null,
              item: null,
              status: 'COMPLETED',
              taskId: 'task-1',
              attempt: 1,
              output: 'Planned.',
              error: null,
              dueAt: null,
              decidedBy: null,
              comment: null,
              createdAt: '2026-01-01T00:00:00.000Z',
              finishedAt: '2026-01-01T00:00:01.000Z',
            },
          ],
        }),
      };
    });
    const context = testContext();
    expect(await runCli(['workflow', 'status', 'run-1', '--api', api], context)).toBe(0);
    expect(context.io.stdout).toEqual([
      'workflow run run-1 · fix v1',
      '  ✓ plan  completed  Planned.',
      'COMPLETED · $0.0000 · 2.0s',
      'outputs',
      '  answer  done',
      'inputs    {"goal":"x","rounds":2}',
      'started   2026-01-01T00:00:00.000Z by token:admin',
      'finished  2026-01-01T00:00:02.000Z',
    ]);
  });

  it('should send an approval with its comment, and a cancel', async () => {
    const api = await start(() => ({ status: 202, body: runJson() }));
    const context = testContext();
    expect(
      await runCli(['workflow', 'approve', 'run-1', 'gate@2', '--comment', 'ship it', '--api', api], context),
    ).toBe(0);
    expect(await runCli(['workflow', 'reject', 'run-1', 'gate', '--api', api], context)).toBe(0);
    expect(await runCli(['workflow', 'cancel', 'run-1', '--api', api], context)).toBe(0);
    expect(writes()).toEqual([
      {
        method: 'POST',
        url: '/api/v1/workflow-runs/run-1/steps/gate%402/approve',
        body: { comment: 'ship it' },
      },
      { method: 'POST', url: '/api/v1/workflow-runs/run-1/steps/gate/reject', body: {} },
      { method: 'POST', url: '/api/v1/workflow-runs/run-1/cancel', body: undefined },
    ]);
    expect(context.io.stdout).toEqual([
      'approved step gate@2 of workflow run run-1; the run goes on shortly',
      'rejected step gate of workflow run run-1; the run goes on shortly',
      'cancel of workflow run run-1 requested: its running steps stop shortly',
    ]);
  });

  it('should take --version as the run’s, not the program’s', async () => {
    const api = await start((request) =>
      request.url.endsWith('/versions')
        ? { status: 200, body: { items: [] } }
        : { status: 200, body: { items: [workflowJson({ version: 3 })] } },
    );
    const context = testContext();
    expect(await runCli(['workflow', 'run', 'fix', '--version', '2', '--api', api], context)).toBe(1);
    expect(context.io.stderr).toEqual(['error: --version: workflow "fix" has no version 2; its newest is 3']);
  });
});
