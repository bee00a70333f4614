import { readFileSync } from 'node:fs';
import path from 'node:path';

export const FIXTURES_DIR = path.join(__dirname, '..', 'fixtures');

// Fixtures are recorded from the real CLI with scripts/record-fixture.mjs.
export function readFixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES_DIR, `claude-2.1.330-${name}.stream.jsonl`));
}
