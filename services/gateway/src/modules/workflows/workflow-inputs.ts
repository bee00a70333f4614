import type { WorkflowDefinition } from '@hangar/contracts';

type InputType = WorkflowDefinition['inputs'][string]['type'];

// One refusal of a run's inputs or a definition's input defaults, at its problem+json field.
export interface InputProblem {
  field: string;
  message: string;
}

// The JSON type of a value as a definition's `inputs.<name>.type` names it.
function jsonTypeOf(value: unknown): InputType | 'null' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : 'other';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  return typeof value === 'object' ? 'object' : 'other';
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
