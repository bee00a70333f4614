import { WorkflowDefinitionSchema, type WorkflowDefinition } from '@hangar/contracts';
import { templateRootPaths, validateWorkflow } from '../src';

// A definition as a user writes it, through the contracts schema (defaults filled in).
const define = (input: unknown): WorkflowDefinition => WorkflowDefinitionSchema.parse(input);

// plan-do-review: a planner with a structured plan, workers fanned out over its items on the
// planner's branch, then a review loop that repeats until the reviewer approves.
const planDoReview = {
  name: 'plan-do-review',
  inputs: { goal: { type: 'string' } },
  steps: [
    {
      id: 'plan',
      prompt: 'Plan how to reach: {{inputs.goal}}',
      output: {
        schema: {
          type: 'object',
          properties: {
            items: { type: 'array', items: { type: 'object', properties: { title: { type: 'string' } } } },
            summary: { type: 'string' },
          },
        },
      },
    },
    {
      id: 'work',
      needs: ['plan'],
      prompt: 'Do {{item.title}} of {{steps.plan.output.summary}}',
      forEach: { items: 'steps.plan.output.items', concurrency: 3 },
    },
    {
      id: 'review_loop',
      type: 'loop',
      needs: ['work'],
      maxIterations: 3,
      until: { path: 'steps.review.output.verdict', equals: 'approve' },
      steps: [
        {
          id: 'fix',
          prompt:
            '{{#if loop.previous.review.output.notes}}Address: {{loop.previous.review.output.notes}}{{/if}} round {{loop.iteration}}',
          workspace: { sameAs: 'plan' },
        },
        {
          id: 'review',
          needs: ['fix'],
          prompt: 'Review the diff for {{inputs.goal}}',
          output: {
            schema: {
              type: 'object',
              properties: {
                verdict: { type: 'string', enum: ['approve', 'reject'] },
                notes: { type: 'string' },
              },
            },
          },
        },
      ],
    },
  ],
  outputs: { summary: '{{steps.plan.output.summary}}: {{steps.review.output.verdict}}' },
};

describe('validateWorkflow', () => {
  it('should find nothing wrong with plan-do-review', () => {
    expect(validateWorkflow(define(planDoReview))).toEqual([]);
  });

  it('should name the path of a cycle', () => {
    const problems = validateWorkflow(
      define({
        name: 'cycle',
        steps: [
          { id: 'a', needs: ['c'], prompt: 'a' },
          { id: 'b', needs: ['a'], prompt: 'b' },
          { id: 'c', needs: ['b'], prompt: 'c' },
        ],
      }),
    );
    expect(problems).toEqual([{ path: ['steps', 0, 'needs'], message: 'makes a cycle: a → c → b → a' }]);
  });

  it('should refuse unknown steps, ids used twice and dependencies across a loop', () => {
    const problems = validateWorkflow(
      define({
        name: 'unknown',
        steps: [
          { id: 'a', prompt: 'a' },
          { id: 'a', needs: ['nowhere'], prompt: 'again' },
          {
            id: 'loop1',
            type: 'loop',
            maxIterations: 2,
            until: { path: 'steps.inner.status', equals: 'COMPLETED' },
            steps: [{ id: 'inner', needs: ['a'], prompt: 'x' }],
          },
          { id: 'after', needs: ['inner'], prompt: 'y' },
        ],
      }),
    );
    expect(problems).toEqual([
      { path: ['steps', 1, 'id'], message: '"a" is used twice' },
      { path: ['steps', 1, 'needs', 0], message: 'names no step: "nowhere"' },
      {
        path: ['steps', 3, 'needs', 0],
        message: 'names "inner", a step inside loop "loop1": depend on the loop instead',
      },
      {
        path: ['steps', 2, 'steps', 0, 'needs', 0],
        message: `names "a", which is outside loop "loop1": the loop's own needs reach it`,
      },
    ]);
  });

  it('should refuse templates naming missing inputs, steps not yet done, and fields the output lacks', () => {
    const definition = structuredClone(planDoReview);
    definition.steps[0]!.prompt = 'Plan {{inputs.target}}';
    definition.steps[1]!.prompt = 'Do {{steps.review.output.verdict}} and {{steps.plan.output.missing}}';
    definition.outputs.summary = '{{steps.work.output.anything}} {{payload.x}}';
    expect(validateWorkflow(define(definition))).toEqual([
      {
        path: ['steps', 0, 'prompt'],
        message: 'names inputs.target, which the workflow does not declare (in {{inputs.target}})',
      },
      {
        path: ['steps', 1, 'prompt'],
        message:
          'names steps.review.output.verdict, but "review" is not among this step\'s dependencies (add it to needs) (in {{steps.review.output.verdict}})',
      },
      {
        path: ['steps', 1, 'prompt'],
        message:
          'names steps.plan.output.missing, but "plan"\'s output has no field output.missing (in {{steps.plan.output.missing}})',
      },
      {
        path: ['outputs', 'summary'],
        message:
          'names steps.work.output.anything, but "work" has no structured output (give it output.schema) (in {{steps.work.output.anything}})',
      },
      {
        path: ['outputs', 'summary'],
        message:
          'names payload.x: templates and conditions read inputs, steps, loop and item (in {{payload.x}})',
      },
    ]);
  });

  it("should let templates and conditions read a step's check only where the step has one", () => {
    const definition = define({
      name: 'cascade-check',
      steps: [
        { id: 'cheap', prompt: 'x', check: { command: 'npm test' } },
        { id: 'plain', prompt: 'y' },
        {
          id: 'strong',
          needs: ['cheap', 'plain'],
          when: { path: 'steps.cheap.check.passed', equals: false },
          prompt:
            'It failed (exit {{steps.cheap.check.exitCode}}): {{steps.cheap.check.output}} {{steps.plain.check.passed}} {{steps.cheap.check.signal}}',
        },
      ],
    });
    expect(definition.steps[0]).toMatchObject({ check: { command: 'npm test', timeoutSeconds: 300 } });
    expect(validateWorkflow(definition)).toEqual([
      {
        path: ['steps', 2, 'prompt'],
        message:
          'names steps.plain.check.passed, but "plain" has no check (give it check.command) (in {{steps.plain.check.passed}})',
      },
      {
        path: ['steps', 2, 'prompt'],
        message:
          'names steps.cheap.check.signal: a check has exitCode, passed, output (in {{steps.cheap.check.signal}})',
      },
    ]);
  });

  it('should refuse a fan-out over what is not a list, and item outside a fan-out', () => {
    const definition = structuredClone(planDoReview);
    definition.steps[1]!.forEach = { items: 'steps.plan.output.summary', concurrency: 3 };
    definition.steps[0]!.prompt = 'Plan {{item.title}}';
    expect(validateWorkflow(define(definition))).toEqual([
      {
        path: ['steps', 0, 'prompt'],
        message: 'names item, which only a forEach step has (in {{item.title}})',
      },
      {
        path: ['steps', 1, 'forEach', 'items'],
        message: 'is not a list: steps.plan.output.summary has type string',
      },
    ]);
  });

  it('should refuse loop references outside a loop, a condition on a step not done, and a workspace of a step that is not', () => {
    const problems = validateWorkflow(
      define({
        name: 'misplaced',
        steps: [
          { id: 'a', prompt: 'round {{loop.iteration}}', workspace: { sameAs: 'b' } },
          {
            id: 'b',
            prompt: 'b',
            when: {
              any: [
                { path: 'steps.a.status', equals: 'COMPLETED' },
                { path: 'steps.c.status', exists: true },
              ],
            },
          },
          { id: 'c', needs: ['a'], prompt: 'c' },
        ],
      }),
    );
    expect(problems).toEqual([
      {
        path: ['steps', 0, 'prompt'],
        message: 'names loop.iteration, but this step is not inside a loop (in {{loop.iteration}})',
      },
      {
        path: ['steps', 0, 'workspace', 'sameAs'],
        message: `"b" is not among this step's dependencies: it needs that step done first`,
      },
      {
        path: ['steps', 1, 'when', 'any', 0, 'path'],
        message: `names steps.a.status, but "a" is not among this step's dependencies (add it to needs)`,
      },
      {
        path: ['steps', 1, 'when', 'any', 1, 'path'],
        message: `names steps.c.status, but "c" is not among this step's dependencies (add it to needs)`,
      },
    ]);
  });

  it('should say a template that does not parse is not one', () => {
    const problems = validateWorkflow(define({ name: 'broken', steps: [{ id: 'a', prompt: 'Hi {{#if}}' }] }));
    expect(problems).toEqual([
      { path: ['steps', 0, 'prompt'], message: expect.stringMatching(/^is not a valid template: /) },
    ]);
  });

  it('should refuse steps that share a workspace but may run at once, and forEach in one', () => {
    const problems = validateWorkflow(
      define({
        name: 'shared',
        inputs: { files: { type: 'array' } },
        steps: [
          { id: 'make', prompt: 'make' },
          { id: 'left', needs: ['make'], prompt: 'l', workspace: { sameAs: 'make' } },
          { id: 'right', needs: ['make'], prompt: 'r', workspace: { sameAs: 'make' } },
          { id: 'after', needs: ['left', 'right'], prompt: 'a', workspace: { sameAs: 'right' } },
          {
            id: 'each',
            needs: ['after'],
            prompt: '{{item}}',
            workspace: { sameAs: 'make' },
            forEach: { items: 'inputs.files' },
          },
        ],
      }),
    );
    expect(problems).toEqual([
      {
        path: ['steps', 4, 'workspace', 'sameAs'],
        message: 'a forEach step cannot share one workspace: its items would write it at the same time',
      },
      {
        path: ['steps', 2, 'workspace'],
        message: 'shares a workspace with "left" but may run at the same time: make one need the other',
      },
    ]);
  });

  it('should leave conditions as data: code in a condition is refused by the schema', () => {
    const parsed = WorkflowDefinitionSchema.safeParse({
      name: 'code',
      steps: [{ id: 'a', prompt: 'a', when: 'process.exit(1)' }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['steps', 0]);
  });
});

describe('templateRootPaths', () => {
  it('should read block parameters from the root, not the paths inside each', () => {
    expect(
      templateRootPaths(
        '{{#each steps.plan.output.items}}{{title}}{{/each}} {{#if inputs.x}}{{inputs.y}}{{/if}}',
      ),
    ).toEqual(['steps.plan.output.items', 'inputs.x', 'inputs.y']);
  });
});
