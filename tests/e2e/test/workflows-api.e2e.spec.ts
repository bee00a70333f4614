import { Client } from 'pg';
import type { Problem, Workflow, WorkflowRun, WorkflowRunPage, WorkflowVersion } from '@hangar/contracts';
import { createRedis } from '@hangar/redis';
import { redisUrl, ServiceStack } from '@hangar/testing';
import { request, signedInMember } from './support';

// A plan with a structured list, then a review of it.
function definition(name: string): Record<string, unknown> {
  return {
    name,
    description: 'Plan, then review',
    inputs: { issue: { type: 'string' }, depth: { type: 'number', default: 2 } },
    steps: [
      {
        id: 'plan',
        prompt: 'Plan {{inputs.issue}} to depth {{inputs.depth}}',
        scenario: 'wf-plan',
        output: {
          schema: {
            type: 'object',
            properties: {
              plan: { type: 'string' },
              items: { type: 'array', items: { type: 'object' } },
            },
          },
        },
      },
      { id: 'review', needs: ['plan'], prompt: 'Review: {{steps.plan.output.plan}}' },
    ],
    outputs: { verdict: '{{steps.review.output}}' },
    deadlineSeconds: 3600,
  };
}

type Step = Record<string, unknown>;

function withSteps(name: string, steps: Step[]): Record<string, unknown> {
  return { ...definition(name), steps, outputs: {} };
}

// The gateway alone (PostgreSQL and Redis): runs are recorded and their start queued, and
// nothing consumes the queue here.
describe('workflows API', () => {
  let stack: ServiceStack;
  let viewer: Record<string, string>;
  const redis = createRedis(redisUrl());

  const queueKey = (suffix: string) => `${stack.redisPrefix}:queue:hangar-workflows:${suffix}`;

  async function countWorkflows(): Promise<number> {
    const client = new Client({ connectionString: stack.database.url });
    await client.connect();
    try {
      const result = await client.query<{ count: string }>('SELECT count(*) FROM workflows');
      return Number(result.rows[0]?.count);
    } finally {
      await client.end();
    }
  }

  async function create(body: Record<string, unknown>): Promise<Workflow> {
    const response = await request(stack, 'POST', '/api/v1/workflows', body);
    if (response.status !== 201)
      throw new Error(`POST /api/v1/workflows answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body as Workflow;
  }

  beforeAll(async () => {
    stack = await ServiceStack.create('workflows_api');
    await stack.start(['gateway']);
    viewer = await signedInMember(stack, { name: 'vic', project: 'default', role: 'viewer' });
  });

  afterAll(async () => {
    redis.disconnect();
    await stack?.dispose();
  });

  it('should create, read, list, version and archive a workflow', async () => {
    const created = await create(definition('triage'));
    expect(created).toMatchObject({
      project: 'default',
      name: 'triage',
      description: 'Plan, then review',
      version: 1,
      createdBy: expect.stringMatching(/^token:/) as unknown,
      // Stored as validated: defaults filled in.
      definition: { steps: [{ id: 'plan', type: 'agent', needs: [], workspace: { fresh: true } }, {}] },
    });

    expect((await request(stack, 'GET', `/api/v1/workflows/${created.id}`)).body).toEqual(created);
    const list = (await request(stack, 'GET', '/api/v1/workflows?project=default')).body as {
      items: Workflow[];
    };
    expect(list.items.map((workflow) => workflow.name)).toContain('triage');
    expect((await request(stack, 'POST', '/api/v1/workflows', definition('triage'))).body).toMatchObject({
      status: 409,
      code: 'WORKFLOW_EXISTS',
    });

    const changed = {
      ...definition('triage'),
      description: 'Plan and review, quickly',
      deadlineSeconds: 600,
    };
    const updated = await request(stack, 'PUT', `/api/v1/workflows/${created.id}`, changed);
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ version: 2, description: 'Plan and review, quickly' });
    const renamed = await request(stack, 'PUT', `/api/v1/workflows/${created.id}`, definition('other'));
    expect(renamed.status).toBe(400);
    expect((renamed.body as Problem).errors).toEqual([
      { field: 'name', message: expect.any(String) as unknown },
    ]);

    const versions = (await request(stack, 'GET', `/api/v1/workflows/${created.id}/versions`)).body as {
      items: WorkflowVersion[];
    };
    expect(versions.items.map((version) => [version.version, version.definition.deadlineSeconds])).toEqual([
      [2, 600],
      [1, 3600],
    ]);

    expect((await request(stack, 'DELETE', `/api/v1/workflows/${created.id}`)).status).toBe(204);
    expect((await request(stack, 'GET', `/api/v1/workflows/${created.id}`)).body).toMatchObject({
      status: 404,
      code: 'WORKFLOW_NOT_FOUND',
    });
    // Its name is free again.
    await create(definition('triage'));
  });

  it('should refuse a bad definition naming the path of each problem, and store nothing', async () => {
    const before = await countWorkflows();
    const cases: { body: Record<string, unknown>; field: string; message: RegExp }[] = [
      {
        body: withSteps('cycle', [
          { id: 'a', needs: ['c'], prompt: 'a' },
          { id: 'b', needs: ['a'], prompt: 'b' },
          { id: 'c', needs: ['b'], prompt: 'c' },
        ]),
        field: 'steps.0.needs',
        message: /cycle: a → c → b → a/,
      },
      {
        body: withSteps('unknown-need', [
          { id: 'a', prompt: 'a' },
          { id: 'b', needs: ['a', 'nope'], prompt: 'b' },
        ]),
        field: 'steps.1.needs.1',
        message: /"nope"/,
      },
      {
        body: withSteps('missing-input', [{ id: 'a', prompt: 'Fix {{inputs.ticket}}' }]),
        field: 'steps.0.prompt',
        message: /inputs\.ticket/,
      },
      {
        body: withSteps('not-a-list', [
          (definition('x').steps as Step[])[0]!,
          {
            id: 'each',
            needs: ['plan'],
            prompt: 'Do {{item}}',
            forEach: { items: 'steps.plan.output.plan' },
          },
        ]),
        field: 'steps.1.forEach.items',
        message: /is not a list.*string/,
      },
      {
        body: withSteps('no-profile', [{ id: 'a', prompt: 'a', profile: 'ghost' }]),
        field: 'steps.0.profile',
        message: /"ghost" does not exist/,
      },
      {
        body: withSteps('no-scenario', [
          {
            id: 'loop',
            type: 'loop',
            maxIterations: 2,
            until: { path: 'steps.a.status', equals: 'COMPLETED' },
            steps: [{ id: 'a', prompt: 'a', scenario: 'no-such-scenario' }],
          },
        ]),
        field: 'steps.0.steps.0.scenario',
        message: /unknown scenario/,
      },
    ];
    for (const { body, field, message } of cases) {
      for (const path of ['/api/v1/workflows', '/api/v1/workflows/validate']) {
        const response = await request(stack, 'POST', path, body);
        expect({ path, status: response.status, contentType: response.contentType }).toEqual({
          path,
          status: 400,
          contentType: expect.stringMatching(/^application\/problem\+json/) as unknown,
        });
        const problem = response.body as Problem;
        expect(problem.code).toBe('INVALID_WORKFLOW');
        expect(problem.errors).toContainEqual({ field, message: expect.stringMatching(message) as unknown });
        expect(problem.detail).toContain(field);
      }
    }
    // What a schema alone refuses is refused like every body, naming the field.
    const shape = await request(stack, 'POST', '/api/v1/workflows', { ...definition('Bad Name'), steps: [] });
    expect(shape.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((shape.body as Problem).errors?.map((error) => error.field).sort()).toEqual(['name', 'steps']);

    expect(await countWorkflows()).toBe(before);
    expect((await request(stack, 'POST', '/api/v1/workflows/validate', definition('fine'))).body).toEqual({
      valid: true,
    });
    expect(await countWorkflows()).toBe(before);
  });

  it('should let a viewer read workflows but not change or run them', async () => {
    const workflow = await create(definition('viewed'));
    expect((await request(stack, 'GET', `/api/v1/workflows/${workflow.id}`, undefined, viewer)).status).toBe(
      200,
    );
    for (const [method, path, body] of [
      ['POST', '/api/v1/workflows', definition('by-viewer')],
      ['PUT', `/api/v1/workflows/${workflow.id}`, definition('viewed')],
      ['DELETE', `/api/v1/workflows/${workflow.id}`, undefined],
      ['POST', `/api/v1/workflows/${workflow.id}/runs`, { inputs: { issue: 'x' } }],
    ] as const) {
      const response = await request(stack, method, path, body, viewer);
      expect({ method, path, status: response.status, code: (response.body as Problem).code }).toEqual({
        method,
        path,
        status: 403,
        code: 'FORBIDDEN',
      });
    }
    expect((await request(stack, 'GET', '/api/v1/workflows', undefined, viewer)).status).toBe(200);
  });

  it('should refuse run inputs that do not fit the definition, naming each', async () => {
    const workflow = await create(definition('inputs'));
    const cases: [Record<string, unknown>, string[]][] = [
      [{}, ['inputs.issue']],
      [{ issue: 42, depth: 'deep' }, ['inputs.depth', 'inputs.issue']],
      [{ issue: 'x', colour: 'blue' }, ['inputs.colour']],
    ];
    for (const [inputs, fields] of cases) {
      const response = await request(stack, 'POST', `/api/v1/workflows/${workflow.id}/runs`, { inputs });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'INVALID_WORKFLOW' });
      expect((response.body as Problem).errors?.map((error) => error.field).sort()).toEqual(fields);
    }
    const version = await request(stack, 'POST', `/api/v1/workflows/${workflow.id}/runs`, {
      inputs: { issue: 'x' },
      version: 9,
    });
    expect(version.body).toMatchObject({ status: 404, errors: [{ field: 'version' }] });
    const page = (await request(stack, 'GET', `/api/v1/workflows/${workflow.id}/runs`))
      .body as WorkflowRunPage;
    expect(page.items).toEqual([]);
  });

  it('should start a run, record it RUNNING and queue its start, then queue a cancel', async () => {
    const workflow = await create(definition('runs'));
    const started = await request(stack, 'POST', `/api/v1/workflows/${workflow.id}/runs`, {
      inputs: { issue: 'HGR-7' },
    });
    expect(started.status).toBe(201);
    const run = started.body as WorkflowRun;
    expect(run).toMatchObject({
      workflowId: workflow.id,
      workflow: 'runs',
      version: 1,
      project: 'default',
      status: 'RUNNING',
      inputs: { issue: 'HGR-7', depth: 2 },
      createdBy: expect.stringMatching(/^token:/) as unknown,
      steps: [],
    });
    const deadline = Date.parse(run.deadlineAt!) - Date.parse(run.createdAt);
    expect(deadline).toBeGreaterThan(3590_000);
    expect(deadline).toBeLessThan(3610_000);

    expect(JSON.parse((await redis.hget(queueKey(`start-${run.id}`), 'data')) ?? 'null')).toEqual({
      kind: 'advance',
      runId: run.id,
    });

    expect((await request(stack, 'GET', `/api/v1/workflow-runs/${run.id}`)).body).toEqual(run);
    const { steps: _steps, ...listed } = run;
    for (const path of [
      `/api/v1/workflows/${workflow.id}/runs?status=RUNNING`,
      '/api/v1/workflow-runs?project=default&limit=1',
    ]) {
      expect((await request(stack, 'GET', path)).body).toEqual({ items: [listed], nextCursor: null });
    }
    expect(
      ((await request(stack, 'GET', '/api/v1/workflow-runs?status=COMPLETED')).body as WorkflowRunPage).items,
    ).toEqual([]);
    expect((await request(stack, 'GET', '/api/v1/workflow-runs?status=LOST')).status).toBe(400);

    // No step waits for a decision yet.
    const approve = await request(stack, 'POST', `/api/v1/workflow-runs/${run.id}/steps/review/approve`, {});
    expect(approve.body).toMatchObject({ status: 404, errors: [{ field: 'key' }] });

    const cancelled = await request(stack, 'POST', `/api/v1/workflow-runs/${run.id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ id: run.id, status: 'RUNNING' });
    const waiting = await redis.lrange(queueKey('wait'), 0, -1);
    const jobs = await Promise.all(waiting.map((id) => redis.hget(queueKey(id), 'data')));
    expect(jobs.map((data) => JSON.parse(data ?? 'null') as unknown)).toContainEqual({
      kind: 'cancel',
      runId: run.id,
      by: expect.stringMatching(/^token:/) as unknown,
    });
  });

  // (After the test that lists the project's only run.)
  it("should hide a project's workflows and runs from an operator of another project", async () => {
    const workflow = await create(definition('private'));
    const started = await request(stack, 'POST', `/api/v1/workflows/${workflow.id}/runs`, {
      inputs: { issue: 'HGR-9' },
    });
    expect(started.status).toBe(201);
    const run = started.body as WorkflowRun;
    const outsider = await signedInMember(stack, {
      name: 'olga',
      project: 'elsewhere',
      role: 'operator',
      create: true,
    });
    for (const [method, path, body] of [
      ['GET', `/api/v1/workflows/${workflow.id}`, undefined],
      ['PUT', `/api/v1/workflows/${workflow.id}`, definition('private')],
      ['DELETE', `/api/v1/workflows/${workflow.id}`, undefined],
      ['POST', `/api/v1/workflows/${workflow.id}/runs`, { inputs: { issue: 'x' } }],
      ['GET', `/api/v1/workflow-runs/${run.id}`, undefined],
      ['POST', `/api/v1/workflow-runs/${run.id}/cancel`, undefined],
      ['POST', `/api/v1/workflow-runs/${run.id}/steps/gate/approve`, {}],
    ] as const) {
      const response = await request(stack, method, path, body, outsider);
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
    }
    const listed = await request(stack, 'GET', '/api/v1/workflow-runs', undefined, outsider);
    expect((listed.body as { items: WorkflowRun[] }).items).toEqual([]);
    // Nothing changed for the owner.
    expect((await request(stack, 'GET', `/api/v1/workflow-runs/${run.id}`)).body).toMatchObject({
      status: 'RUNNING',
    });
  });

  it('should answer 404 for runs that do not exist', async () => {
    for (const [method, path] of [
      ['POST', '/api/v1/workflow-runs/nope/cancel'],
      ['GET', '/api/v1/workflow-runs/nope'],
      ['POST', '/api/v1/workflow-runs/nope/steps/gate/reject'],
      ['POST', '/api/v1/workflows/nope/runs'],
    ] as const) {
      const response = await request(stack, method, path, method === 'POST' ? {} : undefined);
      expect({ path, status: response.status, contentType: response.contentType }).toEqual({
        path,
        status: 404,
        contentType: expect.stringMatching(/^application\/problem\+json/) as unknown,
      });
    }
  });

  it('should document the workflow routes in the OpenAPI document', async () => {
    const document = (await request(stack, 'GET', '/api/openapi.json')).body as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/workflows',
        '/api/v1/workflows/validate',
        '/api/v1/workflows/templates',
        '/api/v1/workflows/{id}',
        '/api/v1/workflows/{id}/versions',
        '/api/v1/workflows/{id}/runs',
        '/api/v1/workflow-runs',
        '/api/v1/workflow-runs/{id}',
        '/api/v1/workflow-runs/{id}/cancel',
        '/api/v1/workflow-runs/{id}/steps/{key}/approve',
        '/api/v1/workflow-runs/{id}/steps/{key}/reject',
      ]),
    );
    const templates = (await request(stack, 'GET', '/api/v1/workflows/templates')).body as {
      items: { name: string; definition: unknown }[];
    };
    expect(templates.items.map((template) => template.name)).toEqual([
      'plan-do-review',
      'architect',
      'cascade',
      'consensus',
    ]);
    // A template is a definition the API takes as it is.
    const fromTemplate = await request(
      stack,
      'POST',
      '/api/v1/workflows/validate',
      templates.items[1]!.definition,
    );
    expect(fromTemplate.body).toEqual({ valid: true });
  });
});
