import { WorkflowDefinitionSchema } from '@hangar/contracts';
import { checkDefinition, looksLikeFile, sameDefinition } from '../src/commands/workflow-file';

describe(checkDefinition.name, () => {
  it('should name the field of the shape a step’s type picks, not only "Invalid input"', () => {
    expect(
      checkDefinition({
        name: 'fix',
        steps: [
          { id: 'plan', prompt: 'x' },
          { id: 'gate', type: 'approval', prompt: 'x' },
          { id: 'rounds', type: 'loop', steps: [], until: { path: 'a', equals: 1 }, maxIterations: 2 },
        ],
      }),
    ).toEqual({
      ok: false,
      errors: [
        'steps.1.message: Invalid input: expected string, received undefined',
        'steps.1: Unrecognized key: "prompt"',
        'steps.2.steps: Too small: expected array to have >=1 items',
      ],
    });
  });

  it('should refuse what is not an object', () => {
    expect(checkDefinition(['a'])).toEqual({
      ok: false,
      errors: ['(body): must be an object with name and steps'],
    });
  });
});

describe(sameDefinition.name, () => {
  it('should see the same definition whatever the order of its keys and the defaults written out', () => {
    const stored = WorkflowDefinitionSchema.parse({ name: 'a', steps: [{ id: 's', prompt: 'p' }] });
    const typed = WorkflowDefinitionSchema.parse({
      steps: [{ prompt: 'p', id: 's', needs: [], workspace: { fresh: true } }],
      name: 'a',
    });
    expect(sameDefinition(stored, typed)).toBe(true);
    expect(sameDefinition(stored, { ...typed, description: 'other' })).toBe(false);
  });
});

describe(looksLikeFile.name, () => {
  it('should take what a workflow name cannot hold for a path', () => {
    expect(['fix.yaml', './fix', 'flows/fix', 'fix.json'].map(looksLikeFile)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['fix', 'plan-do-review', 'cm0abc123'].map(looksLikeFile)).toEqual([false, false, false]);
  });
});
