import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { defaultBinarySearch } from '../deps/binary-locator';
import { ensureDependencies } from '../deps/dependency-check';
import { formatDependencyReport } from '../deps/dependency-report';
import type { SetExitCode } from './command-options';

export function registerDepsCommand(program: Command, context: CliContext, setExitCode: SetExitCode): void {
  program
    .command('deps')
    .description(
      'make PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) answer, starting local servers from installed binaries when needed',
    )
    .action(async () => {
      const { env, io } = context;
      const report = await ensureDependencies({
        databaseUrl: env.databaseUrl,
        redisUrl: env.redisUrl,
        hangarHome: env.hangarHome,
        search: defaultBinarySearch(env.searchPath),
        isRoot: env.isRoot,
      });
      const lines = formatDependencyReport(report, report.ok ? io.outPalette : io.errPalette);
      for (const line of lines) {
        if (report.ok) io.out(line);
        else io.err(line);
      }
      setExitCode(report.ok ? 0 : 1);
    });
}
