import { readFileSync } from 'node:fs';
import path from 'node:path';

export const FIXTURES_DIR = path.join(__dirname, '..', 'fixtures');

// The CLI versions the fixtures were recorded with (scripts/record-fixture.mjs names files so).
const RECORDED_VERSIONS = { claude: '2.1.330', codex: '0.169.0', gemini: '0.61.0' } as const;

export function readFixture(name: string, provider: keyof typeof RECORDED_VERSIONS = 'claude'): Buffer {
  return readFileSync(
    path.join(FIXTURES_DIR, `${provider}-${RECORDED_VERSIONS[provider]}-${name}.stream.jsonl`),
  );
}
