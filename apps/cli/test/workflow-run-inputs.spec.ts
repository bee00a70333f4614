import { type WorkflowDefinition, WorkflowDefinitionSchema } from '@hangar/contracts';
import { parseRunInputs } from '../src/commands/workflow-run-inputs';

const inputs = WorkflowDefinitionSchema.shape.inputs.parse({
  goal: { type: 'string' },
  rounds: { type: 'number', default: 3 },
  dry: { type: 'boolean', required: false },
  files: { type: 'array', required: false },
  options: { type: 'object', required: false },
}) satisfies WorkflowDefinition['inputs'];

describe(parseRunInputs.name, () => {
  it('should keep a string input as typed, even when it looks like a number or holds =', () => {
    expect(parseRunInputs('fix', inputs, { input: ['goal=42 = the answer'] })).toEqual({
      ok: true,
      inputs: { goal: '42 = the answer' },
    });
  });

  it('should parse number, boolean, array and object inputs by their declared type', () => {
    expect(
      parseRunInputs('fix', inputs, {
        input: ['goal=x', 'rounds=2.5', 'dry=TRUE', 'files=["a.ts","b.ts"]', 'options={"deep":true}'],
      }),
    ).toEqual({
      ok: true,
      inputs: { goal: 'x', rounds: 2.5, dry: true, files: ['a.ts', 'b.ts'], options: { deep: true } },
    });
  });

  it('should take any JSON with --input-json and check it against the declared type', () => {
    expect(parseRunInputs('fix', inputs, { inputJson: ['goal="quoted"', 'rounds=1e2'] })).toEqual({
      ok: true,
      inputs: { goal: 'quoted', rounds: 100 },
    });
    expect(parseRunInputs('fix', inputs, { input: ['goal=x'], inputJson: ['dry=1'] })).toEqual({
      ok: false,
      errors: ['--input-json dry: must be a boolean — got a number'],
    });
  });

  it('should name the input and what was typed when a value does not fit its type', () => {
    const result = parseRunInputs('fix', inputs, {
      input: ['goal=x', 'rounds=ten', 'dry=yes', 'files={"a":1}', 'options=[1'],
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([
      '--input rounds: must be a number — got "ten"',
      '--input dry: must be true or false — got "yes"',
      '--input files: must be an array — got an object',
      expect.stringMatching(/^--input options: must be an object in JSON — got "\[1" \(.+\)$/),
    ]);
  });

  it('should refuse a number spelled as something Number() would take but JSON would not', () => {
    for (const text of ['', ' ', '0x10', 'Infinity', '1_000'])
      expect(parseRunInputs('fix', inputs, { input: ['goal=x', `rounds=${text}`] })).toEqual({
        ok: false,
        errors: [`--input rounds: must be a number — got ${JSON.stringify(text)}`],
      });
  });

  it('should refuse inputs the workflow does not declare, and list those it does', () => {
    expect(parseRunInputs('fix', inputs, { input: ['goal=x', 'target=prod'] })).toEqual({
      ok: false,
      errors: [
        '--input target: not an input of workflow "fix" (its inputs: goal, rounds, dry, files, options)',
      ],
    });
    expect(parseRunInputs('hello', {}, { input: ['a=b'] })).toEqual({
      ok: false,
      errors: ['--input a: not an input of workflow "hello", which takes none'],
    });
  });

  it('should refuse a flag without name=value, and an input given twice', () => {
    expect(parseRunInputs('fix', inputs, { input: ['goal', 'goal=a', 'goal=b', '=x'] })).toEqual({
      ok: false,
      errors: [
        '--input goal: must be name=value',
        '--input goal: given more than once',
        '--input =x: must be name=value',
      ],
    });
  });

  it('should ask for a required input without a default, and not for one with a default', () => {
    expect(parseRunInputs('fix', inputs, {})).toEqual({
      ok: false,
      errors: ['--input goal: is required (string): give it with --input goal=…'],
    });
    // A bad value is refused once, not also as missing.
    expect(parseRunInputs('fix', inputs, { inputJson: ['goal=[]'] })).toEqual({
      ok: false,
      errors: ['--input-json goal: must be a string — got an array'],
    });
  });
});
