import { readFile } from 'node:fs/promises';
import { DEPLOY_DOC, loadChartInputs, updatedDocument, valueRows } from '../src/values-reference';

function leaves(value: unknown, prefix: string[] = []): string[] {
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Object.keys(value).length === 0
  ) {
    return [prefix.join('.')];
  }
  return Object.entries(value).flatMap(([key, child]) => leaves(child, [...prefix, key]));
}

describe('the values reference in docs/deploy.md', () => {
  it('should be what src/values-reference.ts generates from values.schema.json (run `pnpm values-reference`)', async () => {
    const current = await readFile(DEPLOY_DOC, 'utf8');
    expect(await updatedDocument(current)).toBe(current);
  });

  it('should describe every value of values.yaml', async () => {
    const { schema, values } = await loadChartInputs();
    const rows = valueRows(schema, values);
    const documented = rows.map((row) => row.key);
    // Maps (env, resources.requests …) are one row; their own keys are free-form.
    const undocumented = leaves(values).filter(
      (key) => !documented.some((row) => key === row || key.startsWith(`${row}.`)),
    );
    expect(undocumented).toEqual([]);
    expect(rows.filter((row) => !row.description).map((row) => row.key)).toEqual([]);
  });
});
