import {
  type WorkflowDefinition,
  WorkflowDefinitionSchema,
  type WorkflowRun,
  type WorkflowStepRun,
} from '@hangar/contracts';
import type { Terminal } from '../src/output/console-io';
import { PLAIN } from '../src/output/palette';
import { WorkflowRunProgress } from '../src/render/workflow-run-progress';
import {
  formatRunSummary,
  formatStepChange,
  formatStepTable,
  stepDetail,
} from '../src/render/workflow-run-render';
import { WorkflowRunState } from '../src/render/workflow-run-state';
import { captureIo } from './support/captured-io';

const definition: WorkflowDefinition = WorkflowDefinitionSchema.parse({
  name: 'ship',
  inputs: { goal: { type: 'string' } },
  steps: [
    { id: 'plan', prompt: 'Plan {{inputs.goal}}' },
    {
      id: 'rounds',
      type: 'loop',
      needs: ['plan'],
      maxIterations: 3,
      until: { path: 'steps.review.output', equals: 'ok' },
      steps: [
        { id: 'work', prompt: 'Do it' },
        { id: 'review', needs: ['work'], prompt: 'Review it' },
      ],
    },
    { id: 'build', needs: ['rounds'], prompt: 'Build {{item}}', forEach: { items: 'inputs.goal' } },
    { id: 'gate', type: 'approval', needs: ['build'], message: 'Ship it?' },
  ],
});

function step(key: string, fields: Partial<WorkflowStepRun> = {}): WorkflowStepRun {
  return {
    key,
    stepId: key.replace(/[@[].*$/, ''),
    type: 'agent',
    iteration: null,
    item: null,
    status: 'RUNNING',
    taskId: `task-${key}`,
    attempt: 1,
    output: null,
    error: null,
    dueAt: null,
    decidedBy: null,
    comment: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    ...fields,
  };
}

function run(steps: WorkflowStepRun[], fields: Partial<WorkflowRun> = {}): WorkflowRun {
  return {
    id: 'run-1',
    workflowId: 'wf-1',
    workflow: 'ship',
    version: 2,
    project: 'default',
    status: 'RUNNING',
    inputs: { goal: 'x' },
    outputs: null,
    error: null,
    costUsd: 0,
    budgetUsd: null,
    deadlineAt: null,
    createdBy: 'user:ann@example.com',
    createdAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    steps,
    ...fields,
  };
}

describe(WorkflowRunState.name, () => {
  it('should keep the furthest picture of a step when an older one comes after it', () => {
    const state = new WorkflowRunState(run([]));
    expect(state.applyStep(step('plan', { status: 'COMPLETED', output: 'done' }))).toBe(true);
    // The topic's backlog replaying RUNNING after a read showed it completed.
    expect(state.applyStep(step('plan'))).toBe(false);
    expect(state.step('plan')?.status).toBe('COMPLETED');
    // The same change twice is no change.
    expect(state.applyStep(step('plan', { status: 'COMPLETED', output: 'done' }))).toBe(false);
  });

  it('should follow a retry forward: failed try waiting, then the next attempt running', () => {
    const state = new WorkflowRunState(run([step('work')]));
    expect(state.applyStep(step('work', { status: 'WAITING', error: 'boom' }))).toBe(true);
    expect(state.applyStep(step('work', { attempt: 2 }))).toBe(true);
    expect(state.applyStep(step('work', { status: 'WAITING', error: 'boom' }))).toBe(false);
    expect(state.step('work')).toMatchObject({ status: 'RUNNING', attempt: 2 });
  });

  it('should follow a loop into its next iteration', () => {
    const state = new WorkflowRunState(run([step('rounds', { type: 'loop', iteration: 2 })]));
    expect(state.applyStep(step('rounds', { type: 'loop', iteration: 1 }))).toBe(false);
    expect(state.applyStep(step('rounds', { type: 'loop', iteration: 3 }))).toBe(true);
  });

  it('should not take a run back to RUNNING once it ended', () => {
    const state = new WorkflowRunState(run([]));
    state.applyActivity({
      type: 'run.status',
      data: { status: 'COMPLETED', error: null, outputs: { a: '1' }, costUsd: 0.5 },
    });
    expect(state.applyRun(run([step('plan', { status: 'COMPLETED' })], { costUsd: 0.1 }))).toHaveLength(1);
    expect(state.run).toMatchObject({ status: 'COMPLETED', outputs: { a: '1' }, costUsd: 0.5 });
  });
});

describe(formatStepChange.name, () => {
  it.each([
    [step('plan'), '● plan running'],
    [
      step('plan', { status: 'COMPLETED', output: 'Planned it.\nIn detail.' }),
      '✓ plan completed · Planned it. …',
    ],
    [
      step('plan', { status: 'COMPLETED', output: { plan: 'write hello.txt' } }),
      '✓ plan completed · {"plan":"write hello.txt"}',
    ],
    [
      step('review@2', { status: 'FAILED', error: 'output: does not match', iteration: 2 }),
      '✗ review@2 failed · output: does not match',
    ],
    [
      step('gate', { type: 'approval', status: 'WAITING', output: { message: 'Ship it?' } }),
      '◷ gate waiting · Ship it? — hangar workflow approve|reject run-1 gate',
    ],
    [
      step('gate', {
        type: 'approval',
        status: 'COMPLETED',
        output: { message: 'Ship it?', approved: false, by: 'user:ann', comment: 'not yet' },
      }),
      '✓ gate completed · rejected by user:ann: not yet',
    ],
    [
      step('work', { status: 'WAITING', error: 'rate limited' }),
      '◷ work waiting · attempt 1 failed, retrying: rate limited',
    ],
    [step('rounds', { type: 'loop', iteration: 2 }), '● rounds running · iteration 2'],
    [
      step('rounds', { type: 'loop', status: 'COMPLETED', output: { iterations: 1 } }),
      '✓ rounds completed · after 1 iteration',
    ],
    [step('build', { status: 'COMPLETED', output: ['a', 'b'] }), '✓ build completed · 2 items'],
    [step('later', { status: 'SKIPPED' }), '↷ later skipped'],
  ])('should show %j as one line', (change, line) => {
    expect(formatStepChange(change, 'run-1', PLAIN)).toBe(line);
  });

  it('should cut a long output to the room given', () => {
    const line = formatStepChange(
      step('plan', { status: 'COMPLETED', output: 'x'.repeat(500) }),
      'run-1',
      PLAIN,
    );
    expect(line).toHaveLength('✓ plan completed · '.length + 160);
    expect(line.endsWith('…')).toBe(true);
  });
});

describe(formatStepTable.name, () => {
  it('should lay the steps out as the definition does, with iterations, items and what is still to come', () => {
    const state = new WorkflowRunState(
      run([
        step('plan', { status: 'COMPLETED', output: { plan: 'p' } }),
        step('rounds', { type: 'loop', iteration: 2 }),
        step('work@1', { stepId: 'work', iteration: 1, status: 'COMPLETED', output: 'Wrote it' }),
        step('review@1', { stepId: 'review', iteration: 1, status: 'COMPLETED', output: 'no' }),
        step('work@2', { stepId: 'work', iteration: 2 }),
      ]),
      definition,
    );
    expect(formatStepTable(state, PLAIN)).toEqual([
      '  ✓ plan        completed  {"plan":"p"}',
      '  ● rounds      running    iteration 2',
      '    ✓ work@1    completed  Wrote it',
      '    ✓ review@1  completed  no',
      '    ● work@2    running',
      '    ○ review@2  pending    after work',
      '  ○ build       pending    after rounds',
      '  ○ gate        pending    after build',
    ]);
  });

  it('should show fan-out items under their step, with counts on it', () => {
    const state = new WorkflowRunState(
      run([
        step('build', {}),
        step('build[0]', { stepId: 'build', item: 0, status: 'COMPLETED', output: 'a' }),
        step('build[1]', { stepId: 'build', item: 1 }),
      ]),
      { ...definition, steps: [definition.steps[2]!] },
    );
    expect(formatStepTable(state, PLAIN)).toEqual([
      '  ● build       running    1 completed · 1 running',
      '    ✓ build[0]  completed  a',
      '    ● build[1]  running',
    ]);
  });

  it('should list the steps in the order read when the definition is not known', () => {
    const state = new WorkflowRunState(run([step('plan'), step('work@1', { stepId: 'work', iteration: 1 })]));
    expect(formatStepTable(state, PLAIN)).toEqual(['  ● plan      running', '    ● work@1  running']);
  });

  it('should cut rows to the width and the table to the rows given', () => {
    const state = new WorkflowRunState(
      run([step('plan', { status: 'COMPLETED', output: 'y'.repeat(300) })]),
      definition,
    );
    const lines = formatStepTable(state, PLAIN, { width: 60, maxRows: 3 });
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => line.length <= 60)).toBe(true);
    expect(lines[2]).toBe('  … 4 more');
  });
});

describe(formatRunSummary.name, () => {
  it('should end with the status, cost, tasks and duration, then the outputs', () => {
    const ended = run([step('plan', { status: 'COMPLETED' })], {
      status: 'COMPLETED',
      costUsd: 0.0123,
      finishedAt: '2026-01-01T00:00:12.300Z',
      outputs: { verdict: 'approve', notes: 'fine\nreally' },
    });
    expect(formatRunSummary(ended, PLAIN)).toEqual([
      'COMPLETED · $0.0123 · 12.3s',
      'outputs',
      '  verdict  approve',
      '  notes    fine',
      '           really',
    ]);
  });

  it('should say why a run failed', () => {
    const failed = run([], { status: 'FAILED', error: 'step-failed: review@2: boom' });
    expect(formatRunSummary(failed, PLAIN)).toEqual([
      'FAILED · $0.0000',
      'error: step-failed: review@2: boom',
    ]);
  });
});

describe(WorkflowRunProgress.name, () => {
  it('should print one plain line per change when stdout is not a terminal', () => {
    const io = captureIo();
    const state = new WorkflowRunState(run([step('plan')]), definition);
    const progress = new WorkflowRunProgress(state, io);
    progress.start();
    progress.changed(
      state.applyRun(run([step('plan'), step('rounds', { type: 'loop', iteration: 1, taskId: null })])),
    );
    // A refresh telling nothing new prints nothing.
    progress.changed(
      state.applyRun(run([step('plan'), step('rounds', { type: 'loop', iteration: 1, taskId: null })])),
    );
    progress.changed(state.applyRun(run([step('plan', { status: 'COMPLETED', output: 'ok' })])));
    state.applyActivity({
      type: 'run.status',
      data: { status: 'FAILED', error: 'step-failed: rounds: no', outputs: null, costUsd: 0 },
    });
    progress.finish();
    expect(io.stdout).toEqual([
      'workflow run run-1 · ship v2',
      '● plan running',
      '● rounds running · iteration 1',
      '✓ plan completed · ok',
      'FAILED · $0.0000',
      'error: step-failed: rounds: no',
    ]);
  });

  it('should draw the table over itself on a terminal', () => {
    const io = captureIo();
    const written: string[] = [];
    const terminal: Terminal = { columns: () => 80, rows: () => 24, write: (text) => written.push(text) };
    const state = new WorkflowRunState(run([step('plan')]), { ...definition, steps: [definition.steps[0]!] });
    const progress = new WorkflowRunProgress(state, { ...io, terminal });
    progress.start();
    progress.changed(state.applyRun(run([step('plan', { status: 'COMPLETED', output: 'ok' })])));
    expect(written).toEqual(['  ● plan  running\n', '\u001b[1A\r\u001b[J  ✓ plan  completed  ok\n']);
    progress.notice('connection lost');
    expect(io.stderr).toEqual(['connection lost']);
    expect(written.slice(2)).toEqual(['\u001b[1A\r\u001b[J', '  ✓ plan  completed  ok\n']);
  });
});

describe(stepDetail.name, () => {
  it('should say how far a retried step is', () => {
    expect(stepDetail(step('work', { attempt: 3 }), 'run-1')).toBe('attempt 3');
  });
});
