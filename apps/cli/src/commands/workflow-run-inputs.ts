import { readInputJson, readInputText, type WorkflowDefinition } from '@hangar/contracts';

type DeclaredInputs = WorkflowDefinition['inputs'];

export interface RunInputFlags {
  // `name=value`: a string, or parsed as the input's declared type says.
  input?: string[];
  // `name=<json>`: any JSON value, checked against the declared type.
  inputJson?: string[];
}

export type RunInputs = { ok: true; inputs: Record<string, unknown> } | { ok: false; errors: string[] };

// The run's inputs from --input and --input-json, checked against what the workflow declares, so
// a typo is refused here, before anything is created or started. Messages name the flag and the
// input as typed: `--input count: must be a number — got "ten"`.
export function parseRunInputs(workflow: string, declared: DeclaredInputs, flags: RunInputFlags): RunInputs {
  const errors: string[] = [];
  const inputs: Record<string, unknown> = {};
  // Every declared input given, well or not: refused once, and not also as missing.
  const seen = new Set<string>();
  const given = [
    ...(flags.input ?? []).map((raw) => ({ flag: '--input', raw, json: false })),
    ...(flags.inputJson ?? []).map((raw) => ({ flag: '--input-json', raw, json: true })),
  ];
  const names = Object.keys(declared);
  for (const { flag, raw, json } of given) {
    const at = raw.indexOf('=');
    const name = at < 0 ? raw : raw.slice(0, at);
    if (at <= 0) {
      errors.push(`${flag} ${raw}: must be name=${json ? '<json>' : 'value'}`);
      continue;
    }
    const text = raw.slice(at + 1);
    const input = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (!input) {
      errors.push(
        `${flag} ${name}: not an input of workflow "${workflow}"` +
          (names.length === 0 ? ', which takes none' : ` (its inputs: ${names.join(', ')})`),
      );
      continue;
    }
    if (seen.has(name)) {
      errors.push(`${flag} ${name}: given more than once`);
      continue;
    }
    seen.add(name);
    const value = json ? fromJson(input.type, text) : fromText(input.type, text);
    if (value.ok) inputs[name] = value.value;
    else errors.push(`${flag} ${name}: ${value.error}`);
  }
  for (const [name, input] of Object.entries(declared)) {
    if (seen.has(name) || !input.required || input.default !== undefined) continue;
    errors.push(`--input ${name}: is required (${input.type}): give it with --input ${name}=…`);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, inputs };
}

// `k=v`: read as the input's declared type; `k=<json>`: any JSON, checked against it.
const fromText = readInputText;
const fromJson = readInputJson;
