import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type WorkflowDefinition, WorkflowDefinitionSchema } from '@hangar/contracts';
import { parse as parseYaml, YAMLParseError } from 'yaml';

export type DefinitionFile = { ok: true; definition: WorkflowDefinition } | { ok: false; errors: string[] };

// A workflow name never holds a dot or a slash: an argument that does is a file.
export function looksLikeFile(argument: string): boolean {
  return /[./\\]/.test(argument);
}

// A definition file, JSON or YAML (YAML reads JSON too, so anything but .json is read as YAML),
// checked with the schema the gateway applies; problems are `field: message`, as the API names them.
export function readDefinitionFile(file: string): DefinitionFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      errors: [`${file}: cannot read it (${typeof code === 'string' ? code : String(error)})`],
    };
  }
  let raw: unknown;
  try {
    raw = path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    return { ok: false, errors: [`${file}: ${syntaxError(error)}`] };
  }
  return checkDefinition(raw);
}

export function checkDefinition(raw: unknown): DefinitionFile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, errors: ['(body): must be an object with name and steps'] };
  const parsed = WorkflowDefinitionSchema.safeParse(raw);
  if (parsed.success) return { ok: true, definition: parsed.data };
  return {
    ok: false,
    errors: flatten(parsed.error.issues, []).map(({ path: at, message }) => {
      const field = at.map(String).join('.');
      return `${field === '' ? '(body)' : field}: ${message}`;
    }),
  };
}

interface Issue {
  code?: string;
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
}

// A step is one of several shapes (agent, approval, loop): zod says only "Invalid input" for it.
// Its problems are those of the shape its `type` names (an agent without one), else of the
// shape it comes closest to.
function flatten(
  issues: readonly Issue[],
  prefix: PropertyKey[],
): { path: PropertyKey[]; message: string }[] {
  return issues.flatMap((issue) => {
    const at = [...prefix, ...issue.path];
    if (issue.code !== 'invalid_union' || !issue.errors || issue.errors.length === 0)
      return [{ path: at, message: issue.message }];
    const typeMatches = issue.errors.filter(
      (branch) => !branch.some((inner) => inner.path.length === 1 && inner.path[0] === 'type'),
    );
    const candidates = typeMatches.length > 0 ? typeMatches : issue.errors;
    const closest = candidates.reduce((best, branch) => (branch.length < best.length ? branch : best));
    return flatten(closest, at);
  });
}

function syntaxError(error: unknown): string {
  if (error instanceof YAMLParseError) {
    // Its message ends with the offending lines drawn out; the first line says it all.
    const where = error.linePos?.[0];
    const first = (error.message.split('\n')[0] ?? error.message).replace(/:\s*$/, '');
    return where && !first.includes(`line ${where.line}`)
      ? `${first} (line ${where.line}, column ${where.col})`
      : first;
  }
  return error instanceof Error ? error.message : String(error);
}

// Two definitions are the same workflow version when they are equal once defaults are filled in
// (both went through the same schema), whatever the order of their keys.
export function sameDefinition(left: WorkflowDefinition, right: WorkflowDefinition): boolean {
  return canonicalJson(left) === canonicalJson(right);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, entry: unknown) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return entry;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(entry).sort()) sorted[key] = (entry as Record<string, unknown>)[key];
    return sorted;
  });
}
