// Prisma CLI configuration (Prisma 7 keeps datasource URLs here, not in schema.prisma).
// Hangar applies migrations itself (`pnpm db:migrate`); these URLs only matter when you run Prisma's
// own migrate commands on a machine that has the schema engine (see docs/database.md).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: '../../prisma/schema.prisma',
  migrations: { path: '../../prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/hangar',
    // `prisma migrate diff --from-migrations` replays the history in this throwaway database.
    shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL,
  },
});
