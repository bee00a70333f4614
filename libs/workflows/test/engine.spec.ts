import {
  WorkflowDefinitionSchema,
  type RunSnapshot,
  type StepTask,
  type WorkflowStepRun,
  type TaskStatus,
} from '@hangar/contracts';
import {
  decide,
  validateWorkflow,
  WORKFLOW_TEMPLATES,
  type Decision,
  type RunRequest,
  type TaskStart,
} from '../src';

// The engine's decisions over a run held in memory: each decision's writes are applied as the
// run store applies them, and the test plays the part of the agents (a task's end).
class Run {
  readonly snapshot: RunSnapshot;
  now = new Date('2026-12-05T10:00:00Z');
  private ids = 0;
  readonly started: TaskStart[] = [];
  last!: Decision;

  constructor(definition: unknown, inputs: Record<string, unknown> = {}) {
    const parsed = WorkflowDefinitionSchema.parse(definition);
    expect(validateWorkflow(parsed)).toEqual([]);
    this.snapshot = {
      projectId: 'p',
      cancelRequested: false,
      definition: parsed,
      tasks: [],
      run: {
        id: 'run',
        workflowId: 'w',
        workflow: parsed.name,
        version: 1,
        project: 'default',
        status: 'RUNNING',
        inputs,
        outputs: null,
        error: null,
        costUsd: 0,
        budgetUsd: parsed.budgetUsd ?? null,
        deadlineAt: parsed.deadlineSeconds
          ? new Date(this.now.getTime() + parsed.deadlineSeconds * 1000).toISOString()
          : null,
        createdBy: 'test',
        createdAt: this.now.toISOString(),
        finishedAt: null,
        steps: [],
      },
    };
  }

  advance(request?: RunRequest): Decision {
    const decision = decide({
      snapshot: structuredClone(this.snapshot),
      now: this.now,
      newTaskId: () => `t${++this.ids}`,
      ...(request ? { request } : {}),
    });
    for (const write of decision.steps) {
      const steps = this.snapshot.run.steps;
      const index = steps.findIndex((step) => step.key === write.key);
      const before: WorkflowStepRun =
        index >= 0
          ? steps[index]!
          : {
              key: write.key,
              stepId: write.stepId,
              type: 'agent',
              iteration: null,
              item: write.item,
              status: write.status,
              taskId: null,
              attempt: 1,
              output: null,
              error: null,
              dueAt: null,
              decidedBy: null,
              comment: null,
              createdAt: this.now.toISOString(),
              finishedAt: null,
            };
      const after: WorkflowStepRun = {
        ...before,
        status: write.status,
        iteration: write.iteration,
        ...(write.taskId !== undefined ? { taskId: write.taskId } : {}),
        ...(write.attempt !== undefined ? { attempt: write.attempt } : {}),
        ...(write.output !== undefined ? { output: write.output } : {}),
        ...(write.error !== undefined ? { error: write.error } : {}),
        ...(write.dueAt !== undefined ? { dueAt: write.dueAt?.toISOString() ?? null } : {}),
      };
      if (index >= 0) steps[index] = after;
      else steps.push(after);
    }
    if (decision.run) Object.assign(this.snapshot.run, decision.run);
    for (const start of decision.start) {
      if (this.snapshot.tasks.some((task) => task.id === start.taskId)) continue;
      this.snapshot.tasks.push({
        id: start.taskId,
        status: 'QUEUED',
        result: null,
        costUsd: null,
        error: null,
        check: null,
      });
      this.started.push(start);
    }
    for (const id of decision.cancel) this.task(id).status = 'CANCELLED';
    this.last = decision;
    return decision;
  }

  task(id: string): StepTask {
    const task = this.snapshot.tasks.find((candidate) => candidate.id === id);
    if (!task) throw new Error(`no task ${id}`);
    return task;
  }

  // The task of a step's key ends as told, and the engine hears of it.
  finish(key: string, status: TaskStatus, result: unknown = 'done', costUsd = 0.01): Decision {
    const step = this.step(key);
    const task = this.task(step.taskId!);
    Object.assign(task, {
      status,
      result: typeof result === 'string' ? result : JSON.stringify(result),
      costUsd,
      error: status === 'FAILED' ? 'exit-code: the agent failed' : null,
    });
    return this.advance();
  }

  step(key: string): WorkflowStepRun {
    const step = this.snapshot.run.steps.find((candidate) => candidate.key === key);
    if (!step) throw new Error(`no step ${key}; have ${this.keys().join(', ')}`);
    return step;
  }

  keys(): string[] {
    return this.snapshot.run.steps.map((step) => step.key);
  }

  running(): string[] {
    return this.snapshot.run.steps
      .filter((step) => step.status === 'RUNNING' && step.taskId)
      .map((s) => s.key);
  }
}

const template = (name: string) =>
  WORKFLOW_TEMPLATES.find((candidate) => candidate.name === name)!.definition;

describe('workflow engine', () => {
  it('ships templates that are valid definitions', () => {
    expect(WORKFLOW_TEMPLATES.map((entry) => entry.name)).toEqual([
      'plan-do-review',
      'architect',
      'cascade',
      'consensus',
    ]);
    for (const entry of WORKFLOW_TEMPLATES) expect(validateWorkflow(entry.definition)).toEqual([]);
  });

  it("escalates on a failed check, and shows the check's end to the next step", () => {
    const check = { command: 'npm test', timeoutSeconds: 300 };
    const run = new Run(
      WorkflowDefinitionSchema.parse({
        name: 'cascade-check',
        steps: [
          { id: 'cheap', prompt: 'do it', check: { command: 'npm test' } },
          {
            id: 'strong',
            needs: ['cheap'],
            when: { path: 'steps.cheap.check.passed', equals: false },
            prompt:
              'do it; the first try failed (exit {{steps.cheap.check.exitCode}}):\n{{steps.cheap.check.output}}',
            check: { command: 'npm test' },
          },
        ],
        outputs: { passed: '{{#if steps.strong.check.passed}}strong{{else}}cheap{{/if}}' },
      }),
      {},
    );
    run.advance();
    expect(run.started.at(-1)!.check).toEqual(check);
    run.task(run.step('cheap').taskId!).check = { exitCode: 1, passed: false, output: '1 test failed' };
    run.finish('cheap', 'COMPLETED', 'did it');
    expect(run.running()).toEqual(['strong']);
    expect(run.started.at(-1)).toMatchObject({
      prompt: 'do it; the first try failed (exit 1):\n1 test failed',
      check,
    });
    run.task(run.step('strong').taskId!).check = { exitCode: 0, passed: true, output: '' };
    run.finish('strong', 'COMPLETED', 'did it right');
    expect(run.snapshot.run).toMatchObject({ status: 'COMPLETED', outputs: { passed: 'strong' } });
  });

  it('runs plan-do-review through a rejected round and an approved one, in one workspace', () => {
    const run = new Run(template('plan-do-review'), { goal: 'greet' });
    run.advance();
    expect(run.running()).toEqual(['plan']);
    run.finish('plan', 'COMPLETED', { plan: 'write hello.txt' });
    expect(run.running()).toEqual(['work@1']);
    const work1 = run.started.at(-1)!;
    expect(work1.prompt).toBe('You are the worker. Carry out this plan in the repository:\nwrite hello.txt');
    expect(work1.workspaceOf).toBe(run.step('plan').taskId);
    run.finish('work@1', 'COMPLETED', 'Wrote hello.txt');
    expect(run.started.at(-1)!.prompt).toMatch(/^Review round 1: /);
    expect(run.started.at(-1)!.workspaceOf).toBe(run.step('plan').taskId);
    run.finish('review@1', 'COMPLETED', { verdict: 'reject', notes: 'greet the world' });
    expect(run.step('rounds').iteration).toBe(2);
    expect(run.started.at(-1)!.prompt).toContain(
      'sent it back with these notes; address them:\ngreet the world',
    );
    run.finish('work@2', 'COMPLETED', 'Wrote it again');
    expect(run.started.at(-1)!.prompt).toMatch(/^Review round 2: /);
    run.finish('review@2', 'COMPLETED', { verdict: 'approve', notes: 'good' });
    expect(run.snapshot.run.status).toBe('COMPLETED');
    expect(run.snapshot.run.outputs).toEqual({ verdict: 'approve: good', rounds: '2' });
    expect(run.snapshot.run.costUsd).toBeCloseTo(0.05);
    expect(run.keys()).toEqual(['plan', 'rounds', 'work@1', 'review@1', 'work@2', 'review@2']);
  });

  it('decides nothing new when told the same thing twice', () => {
    const run = new Run(template('plan-do-review'), { goal: 'greet' });
    run.advance();
    run.finish('plan', 'COMPLETED', { plan: 'p' });
    const again = run.advance();
    expect(again.start).toEqual([]);
    expect(again.steps).toEqual([]);
    expect(run.started.map((start) => start.key)).toEqual(['plan', 'work@1']);
  });

  it('creates the task of a decided step again when it was never created (a crash between)', () => {
    const run = new Run(template('plan-do-review'), { goal: 'greet' });
    run.advance();
    const planTask = run.step('plan').taskId!;
    run.snapshot.tasks = [];
    expect(run.advance().start).toEqual([expect.objectContaining({ taskId: planTask, key: 'plan' })]);
  });

  it('fails a loop that never reaches its condition, and the run with it', () => {
    const run = new Run(template('plan-do-review'), { goal: 'greet' });
    run.advance();
    run.finish('plan', 'COMPLETED', { plan: 'p' });
    for (const round of [1, 2, 3]) {
      run.finish(`work@${round}`, 'COMPLETED', 'w');
      run.finish(`review@${round}`, 'COMPLETED', { verdict: 'reject', notes: 'no' });
    }
    expect(run.snapshot.run.status).toBe('FAILED');
    expect(run.snapshot.run.error).toBe(
      'step-failed: rounds: its condition did not hold after 3 iteration(s)',
    );
  });

  it('fans out with a concurrency limit and gives the fan-in every result in order', () => {
    const run = new Run(template('architect'), { goal: 'g' });
    run.advance();
    const items = [1, 2, 3, 4, 5, 6].map((n) => ({ title: `t${n}`, file: `f${n}` }));
    run.finish('design', 'COMPLETED', { plan: 'p', items });
    expect(run.running()).toEqual(['build[0]', 'build[1]', 'build[2]', 'build[3]']);
    expect(run.started.at(-1)!.prompt).toContain('Build this work item: t4 (in f4).');
    run.finish('build[2]', 'COMPLETED', 'built 3');
    expect(run.running()).toEqual(['build[0]', 'build[1]', 'build[3]', 'build[4]']);
    for (const index of [0, 1, 3, 4]) run.finish(`build[${index}]`, 'COMPLETED', `built ${index + 1}`);
    run.finish('build[5]', 'COMPLETED', 'built 6');
    expect(run.step('build').output).toEqual([
      'built 1',
      'built 2',
      'built 3',
      'built 4',
      'built 5',
      'built 6',
    ]);
    expect(run.running()).toHaveLength(4);
  });

  it('retries a failed step with backoff, then fails the run naming the step', () => {
    const run = new Run({
      name: 'retry',
      steps: [{ id: 'a', prompt: 'x', retries: { max: 1, backoffSeconds: 30 } }],
    });
    run.advance();
    const decision = run.finish('a', 'FAILED');
    expect(run.step('a').status).toBe('WAITING');
    expect(decision.wakeAt).toEqual(new Date(run.now.getTime() + 30_000));
    expect(run.advance().start).toEqual([]);
    run.now = new Date(run.now.getTime() + 30_000);
    run.advance();
    expect(run.step('a')).toMatchObject({ status: 'RUNNING', attempt: 2 });
    run.finish('a', 'FAILED');
    expect(run.snapshot.run).toMatchObject({
      status: 'FAILED',
      error: 'step-failed: a: exit-code: the agent failed',
    });
  });

  it('refuses an answer that does not match the output schema', () => {
    const run = new Run({
      name: 'schema',
      steps: [
        {
          id: 'a',
          prompt: 'x',
          output: { schema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } },
        },
      ],
    });
    run.advance();
    run.finish('a', 'COMPLETED', { n: 'one' });
    expect(run.snapshot.run.error).toBe(
      'step-failed: a: output: the answer does not match the output schema: at /n must be number',
    );
  });

  it('reads a JSON answer from a fenced block in text', () => {
    const run = new Run({
      name: 'fenced',
      steps: [{ id: 'a', prompt: 'x', output: { schema: { type: 'object', required: ['ok'] } } }],
    });
    run.advance();
    run.finish('a', 'COMPLETED', 'Here it is:\n```json\n{"ok": true}\n```\n');
    expect(run.step('a').output).toEqual({ ok: true });
    expect(run.snapshot.run.status).toBe('COMPLETED');
  });

  it('skips a step whose condition does not hold, and the steps after it', () => {
    const run = new Run(template('cascade'), { task: 't' });
    run.advance();
    run.finish('try_cheap', 'COMPLETED', 'cheap answer');
    run.finish('check', 'COMPLETED', { verdict: 'approve', notes: 'fine' });
    expect(run.step('escalate')).toMatchObject({ status: 'SKIPPED' });
    expect(run.snapshot.run.outputs).toEqual({ verdict: 'approve', answer: 'cheap answer' });
  });

  it('escalates when the check rejects', () => {
    const run = new Run(template('cascade'), { task: 't' });
    run.advance();
    run.finish('try_cheap', 'COMPLETED', 'cheap answer');
    run.finish('check', 'COMPLETED', { verdict: 'reject', notes: 'wrong' });
    expect(run.started.at(-1)!.prompt).toContain('An earlier attempt was rejected: wrong');
    run.finish('escalate', 'COMPLETED', 'strong answer');
    expect(run.snapshot.run.outputs).toEqual({ verdict: 'reject', answer: 'strong answer' });
  });

  it('waits at an approval gate until a person answers, and times it out', () => {
    const definition = {
      name: 'gate',
      steps: [
        { id: 'ask', type: 'approval', message: 'Ship {{inputs.what}}?', timeoutSeconds: 600 },
        { id: 'ship', needs: ['ask'], prompt: 'ship it' },
      ],
      inputs: { what: { type: 'string' } },
    };
    const run = new Run(definition, { what: 'v2' });
    run.advance();
    expect(run.step('ask')).toMatchObject({ status: 'WAITING', output: { message: 'Ship v2?' } });
    expect(run.advance({ kind: 'decide', key: 'ship', approved: true, by: 'u' }).refused).toBe(
      'step ship is not waiting for an approval',
    );
    run.advance({ kind: 'decide', key: 'ask', approved: true, by: 'user:ann', comment: 'go' });
    expect(run.running()).toEqual(['ship']);

    const late = new Run(definition, { what: 'v3' });
    late.advance();
    late.now = new Date(late.now.getTime() + 600_000);
    late.advance();
    expect(late.snapshot.run.error).toBe('step-failed: ask: approval timed out after 600 s');
  });

  it('stops at its budget and cancels what runs', () => {
    const run = new Run({
      name: 'budget',
      budgetUsd: 0.05,
      steps: [
        { id: 'a', prompt: 'a' },
        { id: 'b', prompt: 'b' },
        { id: 'c', needs: ['a'], prompt: 'c' },
      ],
    });
    run.advance();
    const b = run.step('b').taskId!;
    run.finish('a', 'COMPLETED', 'done', 0.06);
    expect(run.snapshot.run.status).toBe('FAILED');
    expect(run.snapshot.run.error).toBe('budget-exceeded: the run has spent $0.0600 of its $0.05 budget');
    expect(run.last.cancel).toEqual([b]);
    expect(run.keys()).toEqual(['a', 'b']);
  });

  it("keeps at most the run's concurrency of tasks going, in the definition's order, with its priority", () => {
    const run = new Run(
      {
        name: 'narrow',
        concurrency: 2,
        priority: 'high',
        inputs: { items: { type: 'array' } },
        steps: [
          { id: 'a', prompt: 'a' },
          { id: 'b', prompt: 'b' },
          { id: 'each', prompt: '{{item}}', forEach: { items: 'inputs.items', concurrency: 5 } },
        ],
      },
      { items: [1, 2, 3] },
    );
    run.advance();
    expect(run.running()).toEqual(['a', 'b']);
    expect(run.started.map((start) => (start as { priority?: string }).priority)).toEqual(['high', 'high']);
    run.finish('a', 'COMPLETED');
    expect(run.running()).toEqual(['b', 'each[0]']);
    run.finish('b', 'COMPLETED');
    run.finish('each[0]', 'COMPLETED');
    expect(run.running()).toEqual(['each[1]', 'each[2]']);
  });

  it('cancels every running step when cancelled', () => {
    const run = new Run(template('consensus'), { question: 'q' });
    run.advance();
    expect(run.running()).toHaveLength(3);
    const decision = run.advance({ kind: 'cancel', by: 'user:ann' });
    expect(decision.cancel).toHaveLength(3);
    expect(run.snapshot.run).toMatchObject({ status: 'CANCELLED', error: 'cancelled: by user:ann' });
    expect(run.snapshot.run.steps.every((step) => step.status === 'CANCELLED')).toBe(true);
  });
});
