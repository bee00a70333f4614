// `prisma generate` that works offline (air-gapped installs, CI without internet).
//
// Generating Prisma Client runs entirely in WebAssembly, but the Prisma 7 CLI insists that a schema
// engine binary exists before it runs any command, and downloads one if it does not. Hangar never
// needs that engine (it applies migrations itself, see src/migrate.ts), so unless you point
// PRISMA_SCHEMA_ENGINE_BINARY at a real engine, we point it at ./schema-engine-placeholder, which
// explains itself and exits 1 if anything ever tries to run it. See docs/database.md.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(packageDir, 'package.json'));
const prismaCli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY:
    process.env.PRISMA_SCHEMA_ENGINE_BINARY || path.join(packageDir, 'scripts', 'schema-engine-placeholder'),
  // No update check or telemetry call: on an air-gapped machine it can only fail or stall.
  CHECKPOINT_DISABLE: process.env.CHECKPOINT_DISABLE ?? '1',
  PRISMA_HIDE_UPDATE_MESSAGE: process.env.PRISMA_HIDE_UPDATE_MESSAGE ?? '1',
};

const result = spawnSync(
  process.execPath,
  [prismaCli, 'generate', '--config', path.join(packageDir, 'prisma.config.ts'), ...process.argv.slice(2)],
  { cwd: packageDir, env, stdio: 'inherit' },
);
if (result.error) {
  console.error(`generate: cannot run the Prisma CLI: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
