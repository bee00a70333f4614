import type {
  Task,
  TaskDiff,
  Workflow,
  WorkflowDefinition,
  WorkflowRun,
  WorkflowTemplate,
} from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import {
  follow,
  followRun,
  getTask,
  request,
  type Follower,
  type RunFollower,
  type RunTopicEvent,
} from './support';

// The four shipped templates run end to end: the real gateway, orchestrator, runner and agent
// CLIs (Claude Code, Codex, Gemini) against the scripted model, whose scenarios play the
// planner, the workers, the reviewers and the judge. Each step names its scenario; the template
// is otherwise as shipped.
describe('workflows', () => {
  let stack: ServiceStack;
  let templates: WorkflowTemplate[];

  beforeAll(async () => {
    stack = await ServiceStack.create('workflows');
    await stack.start();
    for (const [name, provider] of [
      ['codex-reviewer', 'codex'],
      ['gemini-proposer', 'gemini'],
      ['cheap', 'claude'],
      ['strong', 'claude'],
    ] as const)
      expect((await request(stack, 'POST', '/api/v1/profiles', { name, provider })).status).toBe(201);
    templates = (
      (await request(stack, 'GET', '/api/v1/workflows/templates')).body as { items: WorkflowTemplate[] }
    ).items;
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  const followers: { close(): void }[] = [];
  afterEach(() => {
    for (const follower of followers.splice(0)) follower.close();
  });

  // A template's definition with, per step id, what the test sets (scenario, profile).
  function fromTemplate(
    name: string,
    steps: Record<string, Record<string, unknown>>,
    rename = name,
  ): WorkflowDefinition {
    const definition = structuredClone(templates.find((template) => template.name === name)!.definition);
    const patch = (step: { id: string; type?: string; steps?: unknown[] }) => {
      Object.assign(step, steps[step.id] ?? {});
      if (step.type === 'loop') for (const child of step.steps as { id: string }[]) patch(child);
    };
    for (const step of definition.steps) patch(step);
    return { ...definition, name: rename };
  }

  async function create(definition: unknown): Promise<Workflow> {
    const created = await request(stack, 'POST', '/api/v1/workflows', definition);
    expect(created.status).toBe(201);
    return created.body as Workflow;
  }

  async function start(workflow: Workflow, inputs: Record<string, unknown>): Promise<WorkflowRun> {
    const started = await request(stack, 'POST', `/api/v1/workflows/${workflow.id}/runs`, { inputs });
    expect(started.status).toBe(201);
    return started.body as WorkflowRun;
  }

  const getRun = async (id: string) =>
    (await request(stack, 'GET', `/api/v1/workflow-runs/${id}`)).body as WorkflowRun;

  // A run's story as its topic tells it (workflow-run:<id>), from its first event.
  function watch(runId: string): RunFollower {
    const follower = followRun(stack, runId);
    followers.push(follower);
    return follower;
  }

  // Resolves with what `until` resolves with, or fails saying what the topic told meanwhile.
  async function within<T>(until: Promise<T>, timeoutMs: number, follower: RunFollower): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const told = follower.events.map((event) =>
          event.type === 'step.status'
            ? `${event.data.key} ${event.data.status}`
            : `run ${event.data.status}`,
        );
        reject(
          new Error(`not within ${timeoutMs} ms; told: ${told.join(', ')}; ${follower.history.join(', ')}`),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([until, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // The run once its topic told it ended, read once.
  async function finished(runId: string, follower = watch(runId), timeoutMs = 90_000) {
    await within(follower.finished, timeoutMs, follower);
    return getRun(runId);
  }

  // A step's task exists by the time its step is told: its topic answers at once.
  async function followTask(taskId: string): Promise<Follower> {
    const follower = follow(stack, taskId);
    followers.push(follower);
    const ack = await follower.ack;
    if (!ack.ok) throw new Error(`task ${taskId}: ${JSON.stringify(ack)}`);
    return follower;
  }

  const step = (run: WorkflowRun, key: string) => {
    const found = run.steps.find((candidate) => candidate.key === key);
    if (!found) throw new Error(`no step ${key} in ${run.steps.map((s) => s.key).join(', ')}`);
    return found;
  };

  async function runTasks(run: WorkflowRun): Promise<Task[]> {
    const tasks: Task[] = [];
    for (const entry of run.steps) if (entry.taskId) tasks.push(await getTask(stack, entry.taskId));
    return tasks;
  }

  it('plan-do-review: the manager sends the work back once, approves the second round (review on Codex)', async () => {
    const workflow = await create(
      fromTemplate('plan-do-review', {
        plan: { scenario: 'wf-plan' },
        work: { scenario: 'wf-work' },
        review: { scenario: 'wf-review-text', profile: 'codex-reviewer' },
      }),
    );
    const started = await start(workflow, { goal: 'greet the world' });
    const story = watch(started.id);
    const run = await finished(started.id, story);

    expect(run).toMatchObject({
      status: 'COMPLETED',
      error: null,
      outputs: { verdict: 'approve: The greeting is right.', rounds: '2' },
    });
    // The topic told the story in order, each event once, with no gap.
    const told = story.events;
    expect(told.map((event) => event.seq)).toEqual(told.map((_, index) => index + 1));
    expect(
      told.flatMap((event) => (event.type === 'step.status' ? [[event.data.key, event.data.status]] : [])),
    ).toEqual([
      ['plan', 'RUNNING'],
      ['plan', 'COMPLETED'],
      ['rounds', 'RUNNING'],
      ['work@1', 'RUNNING'],
      ['work@1', 'COMPLETED'],
      ['review@1', 'RUNNING'],
      ['review@1', 'COMPLETED'],
      // The manager rejected: the loop goes round again.
      ['rounds', 'RUNNING'],
      ['work@2', 'RUNNING'],
      ['work@2', 'COMPLETED'],
      ['review@2', 'RUNNING'],
      ['review@2', 'COMPLETED'],
      ['rounds', 'COMPLETED'],
    ]);
    expect(told.at(-1)).toMatchObject({
      type: 'run.status',
      data: { status: 'COMPLETED', error: null, outputs: run.outputs, costUsd: run.costUsd },
    });
    // Its last word on each step is the step as GET shows it.
    const lastTold = (key: string) =>
      told.findLast(
        (event): event is Extract<RunTopicEvent, { type: 'step.status' }> =>
          event.type === 'step.status' && event.data.key === key,
      )?.data;
    for (const entry of run.steps) expect(lastTold(entry.key)).toEqual(entry);
    expect(run.steps.map((entry) => [entry.key, entry.status])).toEqual([
      ['plan', 'COMPLETED'],
      ['rounds', 'COMPLETED'],
      ['work@1', 'COMPLETED'],
      ['review@1', 'COMPLETED'],
      ['work@2', 'COMPLETED'],
      ['review@2', 'COMPLETED'],
    ]);
    expect(step(run, 'plan').output).toMatchObject({ plan: 'Write hello.txt with a greeting.' });
    expect(step(run, 'review@1').output).toEqual({
      verdict: 'reject',
      notes: 'Greet the world, not just anyone.',
    });

    const tasks = await runTasks(run);
    // One workspace for the whole run: the planner's, worked on by every step after it.
    expect(new Set(tasks.map((task) => task.workspace)).size).toBe(1);
    expect(tasks.map((task) => [task.workflowStep, task.profile, task.workflowRunId])).toEqual([
      ['plan', 'default', run.id],
      ['work@1', 'default', run.id],
      ['review@1', 'codex-reviewer', run.id],
      ['work@2', 'default', run.id],
      ['review@2', 'codex-reviewer', run.id],
    ]);
    const secondWork = tasks.find((task) => task.workflowStep === 'work@2')!;
    expect(secondWork.prompt).toContain(
      'The manager sent it back with these notes; address them:\nGreet the world',
    );
    // Round 2 changed what round 1 wrote: its diff is its own change only.
    const diff = (await request(stack, 'GET', `/api/v1/tasks/${secondWork.id}/diff`)).body as TaskDiff;
    expect(diff.files).toEqual([expect.objectContaining({ path: 'hello.txt', status: 'modified' })]);
    expect(diff.unifiedDiff).toContain('-hello\n+hello, world');
    expect(run.costUsd).toBeCloseTo(
      tasks.reduce((sum, task) => sum + (task.costUsd ?? 0), 0),
      10,
    );
  });

  it('cascade: the cheap profile is rejected and the strong one tries again with the failure as context', async () => {
    const workflow = await create(
      fromTemplate('cascade', {
        try_cheap: { scenario: 'reply', profile: 'cheap' },
        check: { scenario: 'wf-review' },
        escalate: { scenario: 'wf-work', profile: 'strong' },
      }),
    );
    const run = await finished((await start(workflow, { task: 'Write a greeting file.' })).id);
    expect(run).toMatchObject({
      status: 'COMPLETED',
      outputs: { verdict: 'reject', answer: 'Wrote hello.txt' },
    });
    const escalated = await getTask(stack, step(run, 'escalate').taskId!);
    expect(escalated.profile).toBe('strong');
    expect(escalated.prompt).toContain('An earlier attempt was rejected: Greet the world, not just anyone.');
    expect(escalated.prompt).toContain('Hello from the Hangar scripted model.');
  });

  it('cascade by a command: the cheap attempt fails its check, the strong one is told why and passes it', async () => {
    const check = { command: 'test -f hello.txt || { echo "hello.txt is missing"; exit 3; }' };
    const workflow = await create({
      name: 'cascade-check',
      inputs: { task: { type: 'string' } },
      steps: [
        { id: 'try_cheap', prompt: '{{inputs.task}}', profile: 'cheap', scenario: 'reply', check },
        {
          id: 'escalate',
          needs: ['try_cheap'],
          when: { path: 'steps.try_cheap.check.passed', equals: false },
          profile: 'strong',
          scenario: 'wf-work',
          check,
          prompt:
            '{{inputs.task}}\n\nAn earlier attempt failed its check (exit {{steps.try_cheap.check.exitCode}}):\n{{steps.try_cheap.check.output}}',
        },
      ],
      outputs: { answer: '{{steps.escalate.output}}', passed: '{{steps.escalate.check.passed}}' },
    });
    const run = await finished((await start(workflow, { task: 'Write a greeting file.' })).id);
    expect(run).toMatchObject({
      status: 'COMPLETED',
      outputs: { answer: 'Wrote hello.txt', passed: 'true' },
    });
    const cheap = await getTask(stack, step(run, 'try_cheap').taskId!);
    expect(cheap).toMatchObject({
      status: 'COMPLETED',
      checkResult: { exitCode: 3, passed: false, output: 'hello.txt is missing\n' },
    });
    const escalated = await getTask(stack, step(run, 'escalate').taskId!);
    expect(escalated).toMatchObject({
      profile: 'strong',
      checkResult: { exitCode: 0, passed: true, output: '' },
    });
    expect(escalated.prompt).toContain('An earlier attempt failed its check (exit 3):\nhello.txt is missing');
  });

  it('architect: work items fan out to parallel workers, each reviewed, then summarised', async () => {
    const workflow = await create(
      fromTemplate('architect', {
        design: { scenario: 'wf-plan' },
        build: { scenario: 'wf-work' },
        review: { scenario: 'wf-review' },
        summary: { scenario: 'reply' },
      }),
    );
    const run = await finished((await start(workflow, { goal: 'two files' })).id);
    expect(run).toMatchObject({
      status: 'COMPLETED',
      outputs: { summary: 'Hello from the Hangar scripted model.' },
    });
    expect(run.steps.map((entry) => entry.key).sort()).toEqual(
      ['build', 'build[0]', 'build[1]', 'design', 'review', 'review[0]', 'review[1]', 'summary'].sort(),
    );
    expect(step(run, 'build').output).toEqual(['Wrote hello.txt', 'Wrote hello.txt']);
    expect(step(run, 'review').output).toEqual([
      { verdict: 'approve', notes: 'The greeting is right.' },
      { verdict: 'approve', notes: 'The greeting is right.' },
    ]);
    const builders = [
      await getTask(stack, step(run, 'build[0]').taskId!),
      await getTask(stack, step(run, 'build[1]').taskId!),
    ];
    expect(builders.map((task) => task.prompt)).toEqual([
      expect.stringContaining('Build this work item: greeting (in hello.txt). hello'),
      expect.stringContaining('Build this work item: farewell (in bye.txt). goodbye'),
    ]);
    // Fan-out items each work in their own folder.
    expect(builders[0]!.workspace).not.toBe(builders[1]!.workspace);
    const summary = await getTask(stack, step(run, 'summary').taskId!);
    expect(summary.prompt).toContain('"verdict": "approve"');
  });

  it('consensus: three proposals (one on Gemini) and a judge that picks with its reasons', async () => {
    const workflow = await create(
      fromTemplate('consensus', {
        propose_a: { scenario: 'reply' },
        propose_b: { scenario: 'reply', profile: 'gemini-proposer' },
        propose_c: { scenario: 'reply', profile: 'codex-reviewer' },
        judge: { scenario: 'wf-judge' },
      }),
    );
    const run = await finished((await start(workflow, { question: 'How do we greet?' })).id);
    expect(run).toMatchObject({
      status: 'COMPLETED',
      outputs: { answer: 'Hello from the Hangar scripted model.', reasons: 'B says it plainly.' },
    });
    const tasks = await runTasks(run);
    expect(tasks.map((task) => task.profile).sort()).toEqual(
      ['codex-reviewer', 'default', 'default', 'gemini-proposer'].sort(),
    );
    const judge = tasks.find((task) => task.workflowStep === 'judge')!;
    expect(judge.prompt).toContain('Proposal B:\n');
    expect(judge.outputSchema).toMatchObject({ required: ['choice', 'answer', 'reasons'] });
  });

  it('stops a run that spends its budget, with that reason, and starts nothing after', async () => {
    const workflow = await create({
      name: 'thrifty',
      budgetUsd: 0.00001,
      steps: [
        { id: 'first', prompt: 'one', scenario: 'reply' },
        { id: 'second', needs: ['first'], prompt: 'two', scenario: 'reply' },
      ],
    });
    const run = await finished((await start(workflow, {})).id);
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/^budget-exceeded: the run has spent \$0\.\d{4} of its \$0\.00001 budget$/);
    expect(run.steps.map((entry) => entry.key)).toEqual(['first']);
  });

  it('cancels a run: every running step task ends, none is left running', async () => {
    const workflow = await create({
      name: 'long',
      steps: [
        { id: 'wait_a', prompt: 'wait', scenario: 'slow' },
        { id: 'wait_b', prompt: 'wait', scenario: 'slow' },
        { id: 'after', needs: ['wait_a', 'wait_b'], prompt: 'after', scenario: 'reply' },
      ],
    });
    const started = await start(workflow, {});
    const story = watch(started.id);
    // Both have started: one running in a runner slot at least.
    const startedSteps = await within(
      Promise.all(
        ['wait_a', 'wait_b'].map((key) =>
          story.waitFor(
            (event) =>
              event.type === 'step.status' && event.data.key === key && event.data.status === 'RUNNING',
          ),
        ),
      ),
      90_000,
      story,
    );
    const stepTasks = await Promise.all(
      startedSteps.map((event) => followTask((event.data as { taskId: string }).taskId)),
    );
    await stepTasks[0]!.waitFor((event) => event.type === 'task.status' && event.data.status === 'RUNNING');
    const cancelled = await request(stack, 'POST', `/api/v1/workflow-runs/${started.id}/cancel`);
    expect(cancelled.status).toBe(202);
    const run = await finished(started.id, story, 30_000);
    expect(run).toMatchObject({ status: 'CANCELLED', error: expect.stringMatching(/^cancelled: by /) });
    // Every step task ends (its runner stopped it, or it never ran).
    await Promise.all(stepTasks.map((task) => task.finished));
    const tasks = await runTasks(run);
    expect(tasks.map((task) => task.status)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(run.steps.map((entry) => entry.key)).toEqual(['wait_a', 'wait_b']);
  });

  it('finishes a fan-out of 10 through an orchestrator killed in the middle, each item run once', async () => {
    const workflow = await create({
      name: 'ten',
      inputs: { items: { type: 'array' } },
      steps: [
        {
          id: 'each',
          prompt: 'item {{item}}',
          scenario: 'reply',
          forEach: { items: 'inputs.items', concurrency: 10 },
        },
      ],
    });
    const started = await start(workflow, { items: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
    const story = watch(started.id);
    // Some items done, others queued or running: then the orchestrator dies at once.
    const itemsDone = () =>
      new Set(
        story.events.flatMap((event) =>
          event.type === 'step.status' && event.data.item !== null && event.data.status === 'COMPLETED'
            ? [event.data.key]
            : [],
        ),
      ).size;
    await within(
      story.waitFor(() => itemsDone() >= 2),
      90_000,
      story,
    );
    await stack.stop('orchestrator', 'SIGKILL');
    await stack.start(['orchestrator']);

    const run = await finished(started.id, story, 120_000);
    expect(run.status).toBe('COMPLETED');
    const items = run.steps.filter((entry) => entry.item !== null);
    expect(items.map((entry) => entry.key).sort()).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((index) => `each[${index}]`).sort(),
    );
    expect(items.every((entry) => entry.status === 'COMPLETED' && entry.attempt === 1)).toBe(true);
    // Exactly one task per item, each run once: none created twice, none retried.
    const tasks = (
      (await request(stack, 'GET', `/api/v1/tasks?limit=200`)).body as { items: Task[] }
    ).items.filter((task) => task.workflowRunId === run.id);
    expect(tasks).toHaveLength(10);
    expect(tasks.every((task) => task.status === 'COMPLETED' && task.attempts === 1)).toBe(true);
    expect((step(run, 'each').output as unknown[]).length).toBe(10);
  });
});
