// `pnpm db:migrate`: applies pending migrations from prisma/migrations and exits.
// Also the command of the Helm pre-upgrade hook Job.
import { DEFAULT_DATABASE_URL } from '@hangar/config';
import { migrate } from './migrate';

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const migrationsDir = process.env.HANGAR_MIGRATIONS_DIR || undefined;
  const result = await migrate(databaseUrl, { migrationsDir, log: (line) => console.log(line) });
  if (result.applied.length === 0) {
    const count = result.alreadyApplied.length;
    console.log(`database is up to date (${count} migration${count === 1 ? '' : 's'} applied earlier)`);
  }
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`migrate: ${message.split('\n')[0]}`);
  process.exitCode = 1;
});
