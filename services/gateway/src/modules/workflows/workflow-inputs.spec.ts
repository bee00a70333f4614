import { WorkflowDefinitionSchema } from '@hangar/contracts';
import {
  checkInputDefaults,
  inputsFromText,
  resolveRunInputs,
  webhookInputProblems,
} from './workflow-inputs';

const definition = WorkflowDefinitionSchema.parse({
  name: 'triage',
  inputs: {
    issue: { type: 'string' },
    labels: { type: 'array', required: false },
    depth: { type: 'number', default: 2 },
    options: { type: 'object', required: false },
    dry_run: { type: 'boolean', required: false, default: false },
  },
  steps: [{ id: 'look', prompt: 'Look at {{inputs.issue}}' }],
});

describe(resolveRunInputs.name, () => {
  it('should fill in defaults and keep what was given when every input fits', () => {
    expect(resolveRunInputs(definition, { issue: 'HGR-1', labels: ['bug'], options: { a: 1 } })).toEqual({
      inputs: { issue: 'HGR-1', labels: ['bug'], depth: 2, options: { a: 1 }, dry_run: false },
      problems: [],
    });
  });

  it('should name a required input that is missing', () => {
    expect(resolveRunInputs(definition, {}).problems).toEqual([
      { field: 'inputs.issue', message: 'is required (string)' },
    ]);
  });

  it('should name each input of the wrong JSON type when types differ', () => {
    const { problems } = resolveRunInputs(definition, {
      issue: 7,
      labels: { not: 'a list' },
      depth: '3',
      options: [],
      dry_run: null,
    });
    expect(problems).toEqual([
      { field: 'inputs.issue', message: 'must be a string (got number)' },
      { field: 'inputs.labels', message: 'must be an array (got object)' },
      { field: 'inputs.depth', message: 'must be a number (got string)' },
      { field: 'inputs.options', message: 'must be an object (got array)' },
      { field: 'inputs.dry_run', message: 'must be a boolean (got null)' },
    ]);
  });

  it('should refuse an input the workflow does not declare, naming the declared ones', () => {
    const given = JSON.parse('{"issue": "x", "colour": "blue", "__proto__": {"admin": true}}') as Record<
      string,
      unknown
    >;
    const { inputs, problems } = resolveRunInputs(definition, given);
    expect(problems.map((problem) => problem.field)).toEqual(['inputs.colour', 'inputs.__proto__']);
    expect(problems[0]?.message).toBe(
      'is not an input of this workflow (its inputs: issue, labels, depth, options, dry_run)',
    );
    expect(Object.keys(inputs)).toEqual(['issue', 'depth', 'dry_run']);
  });
});

describe(checkInputDefaults.name, () => {
  it('should name a default whose type is not the input type', () => {
    const wrong = WorkflowDefinitionSchema.parse({
      ...definition,
      inputs: { depth: { type: 'number', default: 'deep' } },
    });
    expect(checkInputDefaults(wrong)).toEqual([
      { field: 'inputs.depth.default', message: "must be a number (got string), as the input's type says" },
    ]);
    expect(checkInputDefaults(definition)).toEqual([]);
  });
});

describe(inputsFromText.name, () => {
  it('should read rendered text as the type each input declares', () => {
    expect(
      inputsFromText(definition, {
        issue: ' 42 ',
        depth: ' 3 ',
        labels: '["bug","p1"]',
        options: '{"deep":true}',
        dry_run: 'true',
      }),
    ).toEqual({ issue: ' 42 ', depth: 3, labels: ['bug', 'p1'], options: { deep: true }, dry_run: true });
  });

  it('should keep text that does not read as its type, for resolveRunInputs to name', () => {
    const inputs = inputsFromText(definition, { issue: 'x', depth: 'deep', labels: '[1', dry_run: 'yes' });
    expect(inputs).toEqual({ issue: 'x', depth: 'deep', labels: '[1', dry_run: 'yes' });
    expect(resolveRunInputs(definition, inputs).problems).toEqual([
      { field: 'inputs.labels', message: 'must be an array (got string)' },
      { field: 'inputs.depth', message: 'must be a number (got string)' },
      { field: 'inputs.dry_run', message: 'must be a boolean (got string)' },
    ]);
  });
});

describe(webhookInputProblems.name, () => {
  it('should name inputs the workflow does not declare and required ones not given', () => {
    expect(webhookInputProblems(definition, ['colour'])).toEqual([
      {
        field: 'inputs.colour',
        message: 'is not an input of workflow "triage" (its inputs: issue, labels, depth, options, dry_run)',
      },
      { field: 'inputs.issue', message: 'is required by workflow "triage" (string)' },
    ]);
    expect(webhookInputProblems(definition, ['issue', 'depth'])).toEqual([]);
  });
});
