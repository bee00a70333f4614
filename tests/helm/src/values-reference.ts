import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CHART_DIR, REPO_ROOT } from './helm';

// The values table of docs/deploy.md, made from helm/hangar/values.schema.json (types, allowed
// values, descriptions) and values.yaml (defaults). `pnpm values-reference` rewrites it; a spec
// fails when the document is out of date.
export const DEPLOY_DOC = path.join(REPO_ROOT, 'docs', 'deploy.md');
export const BEGIN_MARKER =
  '<!-- values-reference:begin (generated from helm/hangar/values.schema.json; run `pnpm --filter @hangar/helm-tests values-reference`) -->';
export const END_MARKER = '<!-- values-reference:end -->';

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  definitions?: Record<string, JsonSchema>;
  $ref?: string;
}

export interface ValueRow {
  key: string;
  type: string;
  default: unknown;
  description: string;
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/definitions/', '');
  const target = root.definitions?.[name];
  if (!target) throw new Error(`values.schema.json: unknown $ref ${schema.$ref}`);
  return target;
}

function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf) return [...new Set(schema.anyOf.map(typeOf))].join(' or ');
  const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'any'];
  if (types.includes('array') && schema.items?.type) return `${String(schema.items.type)}[]`;
  if (types.includes('object')) return 'map';
  return types.join(' or ');
}

function valueAt(values: unknown, keys: string[]): unknown {
  let current = values;
  for (const key of keys) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

// One row per leaf: a value that is not an object with declared properties.
export function valueRows(root: JsonSchema, values: unknown): ValueRow[] {
  const rows: ValueRow[] = [];
  const walk = (schema: JsonSchema, keys: string[]) => {
    const resolved = resolve(schema, root);
    if (resolved.properties && keys.length === 0) {
      for (const [key, child] of Object.entries(resolved.properties))
        if (key !== 'global') walk(child, [key]);
      return;
    }
    if (
      resolved.properties &&
      Object.keys(resolved.properties).length > 0 &&
      resolved.additionalProperties === false
    ) {
      for (const [key, child] of Object.entries(resolved.properties)) walk(child, [...keys, key]);
      return;
    }
    const description = schema.description ?? resolved.description ?? '';
    const constraints: string[] = [];
    if (resolved.enum)
      constraints.push(`one of ${resolved.enum.map((value) => `\`${String(value)}\``).join(', ')}`);
    if (resolved.minimum !== undefined) constraints.push(`at least ${resolved.minimum}`);
    if (resolved.maximum !== undefined) constraints.push(`at most ${resolved.maximum}`);
    rows.push({
      key: keys.join('.'),
      type: typeOf(resolved),
      default: valueAt(values, keys),
      description: [description, ...constraints].filter(Boolean).join('; '),
    });
  };
  walk(root, []);
  return rows;
}

function cell(text: string): string {
  // Escaped so Markdown shows them as written (no HTML tag, no emphasis).
  return text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('*', '\\*').replaceAll('\n', ' ');
}

export function valuesTable(rows: ValueRow[]): string {
  const lines = ['| value | type | default | meaning |', '| --- | --- | --- | --- |'];
  for (const row of rows) {
    const shown = row.default === undefined ? '' : `\`${cell(JSON.stringify(row.default))}\``;
    lines.push(`| \`${row.key}\` | ${cell(row.type)} | ${shown} | ${cell(row.description)} |`);
  }
  return lines.join('\n');
}

export async function loadChartInputs(): Promise<{ schema: JsonSchema; values: unknown }> {
  const schema = JSON.parse(await readFile(path.join(CHART_DIR, 'values.schema.json'), 'utf8')) as JsonSchema;
  const values: unknown = parseYaml(await readFile(path.join(CHART_DIR, 'values.yaml'), 'utf8'));
  return { schema, values };
}

// The document with its generated section replaced, formatted as the repository's prettier does.
export async function updatedDocument(document: string): Promise<string> {
  const begin = document.indexOf(BEGIN_MARKER);
  const end = document.indexOf(END_MARKER);
  if (begin < 0 || end < begin)
    throw new Error(`${DEPLOY_DOC} lacks the markers ${BEGIN_MARKER} … ${END_MARKER}`);
  const { schema, values } = await loadChartInputs();
  const table = valuesTable(valueRows(schema, values));
  const text = `${document.slice(0, begin)}${BEGIN_MARKER}\n\n${table}\n\n${document.slice(end)}`;
  return formatMarkdown(text);
}

// The repository's prettier, as a process: its API loads ESM internals, which Jest cannot.
function formatMarkdown(text: string): Promise<string> {
  const bin = path.join(path.dirname(require.resolve('prettier/package.json')), 'bin', 'prettier.cjs');
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [bin, '--stdin-filepath', DEPLOY_DOC],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`prettier: ${stderr || error.message}`)) : resolve(stdout),
    );
    child.stdin?.end(text);
  });
}

async function main(): Promise<void> {
  const current = await readFile(DEPLOY_DOC, 'utf8');
  const next = await updatedDocument(current);
  if (process.argv.includes('--write')) {
    await writeFile(DEPLOY_DOC, next);
    console.log(next === current ? `${DEPLOY_DOC} is up to date` : `updated ${DEPLOY_DOC}`);
  } else if (next !== current) {
    console.error(`${DEPLOY_DOC} is out of date: run with --write`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
