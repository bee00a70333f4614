import { jsonTypeOf, readInputText, type WorkflowDefinition } from '@hangar/contracts';

type InputType = WorkflowDefinition['inputs'][string]['type'];

// One refusal of a run's inputs or a definition's input defaults, at its problem+json field.
export interface InputProblem {
  field: string;
  message: string;
}

function typeProblem(field: string, expected: InputType, value: unknown): InputProblem | undefined {
  const actual = jsonTypeOf(value);
  if (actual === expected) return undefined;
  return {
    field,
    message: `must be ${article(expected)} ${expected} (got ${actual === 'other' ? typeof value : actual})`,
  };
}

function article(type: InputType): string {
  return type === 'object' || type === 'array' ? 'an' : 'a';
}

// A default of the wrong type would only fail once a run uses it: refused with the definition.
export function checkInputDefaults(definition: WorkflowDefinition): InputProblem[] {
  return Object.entries(definition.inputs).flatMap(([name, input]) => {
    if (input.default === undefined) return [];
    const problem = typeProblem(`inputs.${name}.default`, input.type, input.default);
    return problem ? [{ ...problem, message: `${problem.message}, as the input's type says` }] : [];
  });
}

// A run's inputs as the definition declares them: every given name declared and of its type,
// every required one given unless it has a default, and defaults filled in.
export function resolveRunInputs(
  definition: WorkflowDefinition,
  given: Record<string, unknown>,
): { inputs: Record<string, unknown>; problems: InputProblem[] } {
  const declared = Object.keys(definition.inputs);
  const problems: InputProblem[] = [];
  for (const name of Object.keys(given)) {
    if (Object.hasOwn(definition.inputs, name)) continue;
    problems.push({
      field: `inputs.${name}`,
      message:
        declared.length === 0
          ? 'is not an input of this workflow, which takes none'
          : `is not an input of this workflow (its inputs: ${declared.join(', ')})`,
    });
  }
  const inputs: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(definition.inputs)) {
    const value = Object.hasOwn(given, name) ? given[name] : undefined;
    if (value === undefined) {
      if (input.default !== undefined) inputs[name] = input.default;
      else if (input.required)
        problems.push({ field: `inputs.${name}`, message: `is required (${input.type})` });
      continue;
    }
    const problem = typeProblem(`inputs.${name}`, input.type, value);
    if (problem) problems.push(problem);
    else inputs[name] = value;
  }
  return { inputs, problems };
}

// Inputs given as text (a webhook command's rendered templates), read as the types the
// definition declares: a number, true or false, JSON for arrays and objects. Text that does not
// read as its type stays text, and resolveRunInputs names the input it does not fit.
export function inputsFromText(
  definition: WorkflowDefinition,
  given: Record<string, string>,
): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(given)) {
    const type = Object.hasOwn(definition.inputs, name) ? definition.inputs[name]?.type : undefined;
    const read = type === undefined ? undefined : readInputText(type, text);
    inputs[name] = read?.ok ? read.value : text;
  }
  return inputs;
}

// What a command starting this workflow with these inputs would be refused for, checked when the
// command is saved (the workflow may still change later: a run is checked again when it starts).
export function webhookInputProblems(definition: WorkflowDefinition, given: string[]): InputProblem[] {
  const declared = Object.keys(definition.inputs);
  const problems: InputProblem[] = given
    .filter((name) => !Object.hasOwn(definition.inputs, name))
    .map((name) => ({
      field: `inputs.${name}`,
      message:
        declared.length === 0
          ? `is not an input of workflow "${definition.name}", which takes none`
          : `is not an input of workflow "${definition.name}" (its inputs: ${declared.join(', ')})`,
    }));
  for (const [name, input] of Object.entries(definition.inputs)) {
    if (given.includes(name) || !input.required || input.default !== undefined) continue;
    problems.push({
      field: `inputs.${name}`,
      message: `is required by workflow "${definition.name}" (${input.type})`,
    });
  }
  return problems;
}
