import type { default as Ajv2020, ValidateFunction } from 'ajv/dist/2020';
import type Handlebars from 'handlebars';
import type { WorkflowCondition } from '@hangar/contracts';

// What templates and conditions read at one place of a run: `inputs`, `steps.<id>.status|output`,
// in a loop `loop.iteration` and `loop.previous.<id>…`, in a fan-out `item`.
export type RunContext = Record<string, unknown>;

// Templates are Handlebars, strict (a name that is not there is an error, not an empty string),
// unescaped (prompts are not HTML). `{{json value}}` writes a value as JSON.
let environment: typeof Handlebars | undefined;

// Handlebars (~2.5 MB of heap) loads with the first template read or rendered, not with this
// library: the gateway and the orchestrator import it at start, most of them never run a workflow.
export function handlebars(): typeof Handlebars {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('handlebars') as typeof Handlebars;
}

function templates(): typeof Handlebars {
  if (!environment) {
    environment = handlebars().create();
    environment.registerHelper('json', (value: unknown) => JSON.stringify(value ?? null, null, 2));
  }
  return environment;
}

export const TEMPLATE_HELPERS = ['json'] as const;

const compiled = new Map<string, HandlebarsTemplateDelegate>();

export function renderTemplate(template: string, context: RunContext): string {
  let render = compiled.get(template);
  if (!render) {
    render = templates().compile(template, { strict: true, noEscape: true });
    if (compiled.size > 1000) compiled.clear();
    compiled.set(template, render);
  }
  return render(context);
}

export function valueAt(context: RunContext, path: string): unknown {
  let current: unknown = context;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Object.hasOwn(current, segment) ? (current as Record<string, unknown>)[segment] : undefined;
  }
  return current;
}

export function holds(condition: WorkflowCondition, context: RunContext): boolean {
  if ('all' in condition) return condition.all.every((part) => holds(part, context));
  if ('any' in condition) return condition.any.some((part) => holds(part, context));
  if ('not' in condition) return !holds(condition.not, context);
  const value = valueAt(context, condition.path);
  if ('equals' in condition) return value === condition.equals;
  if ('in' in condition) return condition.in.some((candidate) => candidate === value);
  return (value !== undefined && value !== null) === condition.exists;
}

// JSON Schemas of structured outputs (draft 2020-12), compiled once each. Ajv loads with the first
// schema, as Handlebars with the first template.
let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

function validatorOf(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) {
    if (!ajv) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { default: Ajv } = require('ajv/dist/2020') as typeof import('ajv/dist/2020');
      ajv = new Ajv({ allErrors: false, strict: false });
    }
    validate = ajv.compile(schema);
    if (validators.size > 1000) validators.clear();
    validators.set(key, validate);
  }
  return validate;
}

// Why a schema cannot be used (for the definition's validation), or undefined.
export function schemaProblem(schema: Record<string, unknown>): string | undefined {
  try {
    validatorOf(schema);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

// An agent's final text as the structured output its step asked for: the JSON itself (Claude
// Code's --json-schema answers exactly that), or a JSON object inside the text (a fenced block
// or the outermost braces: Codex and Gemini are asked for it in words).
export function structuredOutput(
  text: string | null,
  schema: Record<string, unknown>,
): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text === null || text.trim() === '') return { ok: false, error: 'the agent gave no answer' };
  const value = parseJsonAnswer(text);
  if (value === undefined) return { ok: false, error: 'the answer is not a JSON object' };
  const validate = validatorOf(schema);
  if (validate(value)) return { ok: true, value };
  const first = validate.errors?.[0];
  const where = first?.instancePath ? `at ${first.instancePath} ` : '';
  return {
    ok: false,
    error: `the answer does not match the output schema: ${where}${first?.message ?? 'invalid'}`,
  };
}

function parseJsonAnswer(text: string): unknown {
  const candidates = [text.trim()];
  const fenced = /```(?:json)?\s*\n([\s\S]*?)\n\s*```/.exec(text);
  if (fenced?.[1]) candidates.push(fenced[1]);
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(text.slice(first, last + 1));
  for (const candidate of candidates) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch {
      // the next candidate
    }
  }
  return undefined;
}
