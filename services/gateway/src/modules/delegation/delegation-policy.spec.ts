import { DelegationSettingsSchema, WorkflowDefinitionSchema, type Task } from '@hangar/contracts';
import { placeChild, placeChildRun, workflowProfiles } from './delegation-policy';

const now = new Date('2026-12-06T10:00:00.000Z');
const parent: Parameters<typeof placeChild>[0] = {
  id: 'parent',
  status: 'RUNNING',
  attempts: 1,
  profile: 'manager',
  rootTaskId: 'root',
  depth: 0,
  startedAt: '2026-12-06T09:59:00.000Z',
  timeoutSeconds: 600,
};
const delegating = DelegationSettingsSchema.parse({
  enabled: true,
  profiles: ['worker', 'manager'],
  maxDepth: 2,
});

describe(placeChild.name, () => {
  it("should place a child below its parent, in the parent's tree, on the first allowed profile", () => {
    expect(placeChild(parent, 1, delegating, {}, now)).toEqual({
      ok: true,
      profile: 'worker',
      depth: 1,
      rootTaskId: 'root',
      timeoutSeconds: 540,
    });
  });

  it('should keep a child within the time its parent has left when it asks for more', () => {
    const placed = placeChild(parent, 1, delegating, { profile: 'manager', timeoutSeconds: 3600 }, now);
    expect(placed).toMatchObject({ ok: true, profile: 'manager', timeoutSeconds: 540 });
    expect(placeChild(parent, 1, delegating, { timeoutSeconds: 60 }, now)).toMatchObject({
      timeoutSeconds: 60,
    });
  });

  it('should refuse when the profile does not delegate', () => {
    const off = DelegationSettingsSchema.parse({});
    expect(placeChild(parent, 1, off, {}, now)).toEqual({
      ok: false,
      message: expect.stringContaining('does not allow delegation'),
    });
  });

  it('should refuse a profile the parent may not use, naming those it may', () => {
    expect(placeChild(parent, 1, delegating, { profile: 'admin-ish' }, now)).toEqual({
      ok: false,
      message: expect.stringContaining('use one of: worker, manager'),
    });
  });

  it('should refuse a child beyond the depth limit', () => {
    const deep = { ...parent, depth: 2 };
    expect(placeChild(deep, 1, delegating, {}, now)).toEqual({
      ok: false,
      message: expect.stringMatching(/^depth limit reached: a child here would be at depth 3/),
    });
  });

  it('should refuse when the asking attempt is no longer the running one', () => {
    expect(placeChild(parent, 2, delegating, {}, now)).toMatchObject({ ok: false });
    const ended: Task['status'] = 'CANCELLED';
    expect(placeChild({ ...parent, status: ended }, 1, delegating, {}, now)).toMatchObject({ ok: false });
  });

  it('should refuse when the parent has no time left', () => {
    const late = new Date('2026-12-06T10:09:00.500Z');
    expect(placeChild(parent, 1, delegating, {}, late)).toEqual({
      ok: false,
      message: expect.stringContaining('no time left'),
    });
  });
});

describe(placeChildRun.name, () => {
  const definition = WorkflowDefinitionSchema.parse({
    name: 'review',
    steps: [
      { id: 'plan', prompt: 'plan', profile: 'manager' },
      {
        id: 'rounds',
        type: 'loop',
        needs: ['plan'],
        maxIterations: 2,
        until: { path: 'steps.check.output', equals: 'ok' },
        steps: [
          { id: 'work', prompt: 'work' },
          { id: 'check', needs: ['work'], prompt: 'check', profile: 'worker' },
        ],
      },
    ],
  });

  it("should name every profile a workflow's agent steps run on, loops included", () => {
    expect(workflowProfiles(definition).sort()).toEqual(['default', 'manager', 'worker']);
  });

  it('should refuse a run with a step on a profile the parent may not use', () => {
    expect(placeChildRun(parent, 1, delegating, definition)).toEqual({
      ok: false,
      message: expect.stringContaining('profile "default" is not one this task may delegate to'),
    });
    const wider = { ...delegating, profiles: ['worker', 'manager', 'default'] };
    expect(placeChildRun(parent, 1, wider, definition)).toEqual({ ok: true, depth: 1 });
  });

  it('should refuse a run beyond the depth limit', () => {
    const wider = { ...delegating, profiles: ['worker', 'manager', 'default'], maxDepth: 1 };
    expect(placeChildRun({ ...parent, depth: 1 }, 1, wider, definition)).toMatchObject({ ok: false });
  });
});
