import { WorkflowDefinitionSchema, type WorkflowDefinition } from '@hangar/contracts';

// The patterns people ask for, as definitions to start from (GET /api/v1/workflows/templates;
// docs/workflows.md explains each). Steps name no profile: they run on the project's default
// until the user picks profiles (a cheap one to try, a strong one to escalate to).

const VERDICT_SCHEMA = {
  type: 'object',
  properties: {
    verdict: { type: 'string', enum: ['approve', 'reject'] },
    notes: { type: 'string' },
  },
  required: ['verdict', 'notes'],
};

const planDoReview = {
  name: 'plan-do-review',
  description:
    'A manager plans; a worker implements it on a branch; the manager reviews the diff and approves or sends it back with notes, at most 3 rounds.',
  inputs: { goal: { type: 'string', description: 'What the change should achieve' } },
  steps: [
    {
      id: 'plan',
      prompt:
        'You are the manager of a change. The goal: {{inputs.goal}}\n\nWrite a short, concrete plan a worker can follow in this repository.',
      output: {
        schema: { type: 'object', properties: { plan: { type: 'string' } }, required: ['plan'] },
      },
    },
    {
      id: 'rounds',
      type: 'loop',
      needs: ['plan'],
      maxIterations: 3,
      until: { path: 'steps.review.output.verdict', equals: 'approve' },
      steps: [
        {
          id: 'work',
          workspace: { sameAs: 'plan' },
          prompt:
            'You are the worker. Carry out this plan in the repository:\n{{steps.plan.output.plan}}' +
            '{{#if loop.previous.review}}\n\nThe manager sent it back with these notes; address them:\n{{loop.previous.review.output.notes}}{{/if}}',
        },
        {
          id: 'review',
          needs: ['work'],
          workspace: { sameAs: 'work' },
          prompt:
            'Review round {{loop.iteration}}: you are the manager. The goal: {{inputs.goal}}\nThe plan: {{steps.plan.output.plan}}\n\n' +
            "Read the worker's last commit (git show HEAD) and give your verdict: approve, or reject with notes the worker can act on.",
          output: { schema: VERDICT_SCHEMA },
        },
      ],
    },
  ],
  outputs: {
    verdict: '{{steps.review.output.verdict}}: {{steps.review.output.notes}}',
    rounds: '{{steps.rounds.output.iterations}}',
  },
};

const architect = {
  name: 'architect',
  description:
    'An architect splits a goal into work items; workers take them in parallel; a manager reviews each; a last step merges and summarises.',
  inputs: { goal: { type: 'string', description: 'The project to build' } },
  steps: [
    {
      id: 'design',
      prompt:
        'You are the architect. Split this goal into independent work items, each one file or module a worker can build alone: {{inputs.goal}}',
      output: {
        schema: {
          type: 'object',
          properties: {
            plan: { type: 'string' },
            items: {
              type: 'array',
              items: {
                type: 'object',
                properties: { title: { type: 'string' }, file: { type: 'string' }, text: { type: 'string' } },
                required: ['title', 'file'],
              },
            },
          },
          required: ['plan', 'items'],
        },
      },
    },
    {
      id: 'build',
      needs: ['design'],
      forEach: { items: 'steps.design.output.items', concurrency: 4 },
      prompt:
        'You are a worker. The overall plan: {{steps.design.output.plan}}\n\nBuild this work item: {{item.title}} (in {{item.file}}).{{#if item.text}} {{item.text}}{{/if}}',
    },
    {
      id: 'review',
      needs: ['build'],
      forEach: { items: 'steps.design.output.items', concurrency: 4 },
      prompt:
        "You are the manager. Review the worker's result for {{item.title}} against the plan: {{steps.design.output.plan}}\n\nThe workers reported:\n{{json steps.build.output}}",
      output: { schema: VERDICT_SCHEMA },
    },
    {
      id: 'summary',
      needs: ['review'],
      prompt:
        'Merge the work and summarise it for the team. Work items:\n{{json steps.design.output.items}}\n\nReviews:\n{{json steps.review.output}}',
    },
  ],
  outputs: { summary: '{{steps.summary.output}}' },
};

const cascade = {
  name: 'cascade',
  description:
    'A cheap profile tries first; a reviewer checks; if it fails, a stronger profile tries again with the failure as context.',
  inputs: { task: { type: 'string', description: 'What to do' } },
  steps: [
    { id: 'try_cheap', prompt: '{{inputs.task}}' },
    {
      id: 'check',
      needs: ['try_cheap'],
      workspace: { sameAs: 'try_cheap' },
      prompt:
        'Check this attempt at the task "{{inputs.task}}". It answered:\n{{steps.try_cheap.output}}\n\nApprove it, or reject it with what is wrong.',
      output: { schema: VERDICT_SCHEMA },
    },
    {
      id: 'escalate',
      needs: ['check'],
      when: { path: 'steps.check.output.verdict', equals: 'reject' },
      workspace: { sameAs: 'try_cheap' },
      prompt:
        '{{inputs.task}}\n\nAn earlier attempt was rejected: {{steps.check.output.notes}}\nIts answer was:\n{{steps.try_cheap.output}}\n\nDo it properly.',
    },
  ],
  outputs: {
    verdict: '{{steps.check.output.verdict}}',
    answer: '{{#if steps.escalate.output}}{{steps.escalate.output}}{{else}}{{steps.try_cheap.output}}{{/if}}',
  },
};

const consensus = {
  name: 'consensus',
  description:
    'Several agents (on different profiles, so different providers) propose; a judge picks or merges the best, with its reasons.',
  inputs: { question: { type: 'string', description: 'What to decide or write' } },
  steps: [
    { id: 'propose_a', prompt: 'Propose your best answer: {{inputs.question}}' },
    { id: 'propose_b', prompt: 'Propose your best answer: {{inputs.question}}' },
    { id: 'propose_c', prompt: 'Propose your best answer: {{inputs.question}}' },
    {
      id: 'judge',
      needs: ['propose_a', 'propose_b', 'propose_c'],
      prompt:
        'You are the judge. The question: {{inputs.question}}\n\nProposal A:\n{{steps.propose_a.output}}\n\nProposal B:\n{{steps.propose_b.output}}\n\nProposal C:\n{{steps.propose_c.output}}\n\nPick the best (or merge them) and say why.',
      output: {
        schema: {
          type: 'object',
          properties: {
            choice: { type: 'string', enum: ['a', 'b', 'c', 'merged'] },
            answer: { type: 'string' },
            reasons: { type: 'string' },
          },
          required: ['choice', 'answer', 'reasons'],
        },
      },
    },
  ],
  outputs: { answer: '{{steps.judge.output.answer}}', reasons: '{{steps.judge.output.reasons}}' },
};

export interface WorkflowTemplate {
  name: string;
  description: string;
  definition: WorkflowDefinition;
}

export const WORKFLOW_TEMPLATES: readonly WorkflowTemplate[] = [
  planDoReview,
  architect,
  cascade,
  consensus,
].map((template) => ({
  name: template.name,
  description: template.description,
  definition: WorkflowDefinitionSchema.parse(template),
}));
