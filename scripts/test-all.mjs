#!/usr/bin/env node
// Runs every package's tests and prints one total. Steps: build (turbo, cached), type check
// and lint (turbo, cached), make
// PostgreSQL/Redis answer (`hangar deps`), drop stale per-package summaries, `turbo run test`,
// then add up each package's test-results/summary.json (written by scripts/jest-summary-reporter.cjs).
// The last line is always `tests: N passed, N failed`; the exit code is non-zero when anything failed.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Tested after every other package, alone (see the test section).
const RUN_ALONE = '@hangar/browser-tests';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// `--skip-build` when the caller just built; anything else goes to `turbo run test`
// (e.g. `./scripts/test --filter=@hangar/db` runs one package's tests).
const skipBuild = process.argv.includes('--skip-build');
const turboTestArgs = process.argv.slice(2).filter((arg) => arg !== '--skip-build');

async function main() {
  const failures = [];
  const pnpm = pnpmCommand();

  if (!skipBuild) {
    section('build');
    const build = await turbo(pnpm, [
      'run',
      'build',
      '--continue',
      '--concurrency=2',
      '--output-logs=errors-only',
    ]);
    for (const task of build.tasks.filter((task) => task.exitCode !== 0 && task.exitCode !== undefined)) {
      failures.push({ name: task.package, reason: `build failed (exit code ${task.exitCode})` });
    }
  }

  if (!skipBuild) {
    // Jest compiles specs with swc, which strips types without checking them: the type check
    // and lint of sources and specs belong to the test run. Each failing task counts as a failure.
    section('type check and lint');
    const checks = await turbo(pnpm, [
      'run',
      'check',
      'lint',
      '--continue',
      '--concurrency=2',
      '--output-logs=errors-only',
    ]);
    for (const task of checks.tasks.filter((task) => ['check', 'lint'].includes(task.task))) {
      if (task.exitCode !== 0 && task.exitCode !== undefined) {
        failures.push({ name: task.package, reason: `${task.task} failed (exit code ${task.exitCode})` });
      }
    }
    const [command, ...prefix] = pnpm;
    if ((await run(command, [...prefix, 'exec', 'prettier', '--check', '--log-level=warn', '.'])) !== 0) {
      failures.push({ name: 'prettier', reason: 'files are not formatted: run `pnpm format`' });
    }
  }

  section('dependencies');
  const cli = path.join(root, 'apps', 'cli', 'dist', 'main.js');
  if (existsSync(cli)) {
    const deps = await run(process.execPath, [cli, 'deps']);
    if (deps !== 0)
      failures.push({ name: 'hangar deps', reason: 'PostgreSQL/Redis do not answer (see above)' });
  } else {
    console.log('apps/cli is not built: cannot check PostgreSQL/Redis; running the tests anyway');
  }

  const withTests = workspacePackages().filter((pkg) => pkg.scripts.test !== undefined);
  for (const pkg of withTests) rmSync(summaryPath(pkg), { force: true });

  section('test');
  // Cached builds only print their hash here; the build section above showed their errors.
  const testRun = (args) =>
    turbo(pnpm, ['run', 'test', '--continue', '--concurrency=2', '--output-logs=new-only', ...args]);
  // The browser tests start a whole stack and Chromium: beside the end-to-end specs (which start
  // stacks of their own) two cores are too few for either's timings, so they run on their own, last.
  const runs =
    turboTestArgs.length > 0
      ? [await testRun(turboTestArgs)]
      : [await testRun([`--filter=!${RUN_ALONE}`]), await testRun([`--filter=${RUN_ALONE}`])];
  const test = {
    tasks: runs.flatMap((run) => run.tasks),
    exitCode: Math.max(...runs.map((run) => run.exitCode)),
  };
  const testTasks = test.tasks.filter((task) => task.task === 'test');
  const exitCodes = new Map(testTasks.map((task) => [task.package, task.exitCode]));
  // A filtered run answers for the packages it selected; a full run for every package with tests.
  const packages = turboTestArgs.length > 0 ? withTests.filter((pkg) => exitCodes.has(pkg.name)) : withTests;

  let passed = 0;
  let failed = 0;
  const rows = [];
  const failedTests = [];
  for (const pkg of packages) {
    const summary = readSummary(pkg);
    for (const failure of summary?.failures ?? []) failedTests.push({ pkg: pkg.name, ...failure });
    const exitCode = exitCodes.get(pkg.name);
    if (summary) {
      passed += summary.passed;
      failed += summary.failed;
      rows.push([
        pkg.name,
        `${summary.passed} passed, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} skipped` : ''}`,
      ]);
      if (summary.failed === 0 && exitCode !== undefined && exitCode !== 0) {
        failures.push({
          name: pkg.name,
          reason: `jest exited with code ${exitCode} although no test failed`,
        });
      }
    } else if (exitCode === 0) {
      rows.push([pkg.name, 'no Jest summary (test command passed)']);
    } else {
      const reason =
        exitCode === undefined
          ? 'tests did not run'
          : `test command exited with code ${exitCode} and wrote no summary`;
      failures.push({ name: pkg.name, reason });
    }
  }
  failed += failures.length;

  section('results');
  const width = Math.max(0, ...[...rows, ...failures.map((f) => [f.name])].map(([name]) => name.length));
  for (const [name, text] of rows) console.log(`  ${name.padEnd(width)}  ${text}`);
  for (const failure of failures) console.log(`  ${failure.name.padEnd(width)}  FAILED: ${failure.reason}`);
  if (failedTests.length > 0) {
    section('failed tests');
    for (const { pkg, where, name, why } of failedTests) {
      console.log(`  ${pkg} ${where} › ${name}`);
      for (const line of why) console.log(`      ${line.trim()}`);
    }
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
  return failed > 0 || test.exitCode !== 0 ? 1 : 0;
}

// Through pnpm, so turbo finds the package manager it needs; `pnpm test` hands us its own path.
function pnpmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(path.basename(execPath)) && existsSync(execPath)) {
    return execPath.endsWith('.js') || execPath.endsWith('.cjs') ? [process.execPath, execPath] : [execPath];
  }
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const version = String(manifest.packageManager ?? 'pnpm@10')
    .replace(/^pnpm@/, '')
    .split('+')[0];
  return ['npx', '--yes', '--loglevel=error', `pnpm@${version}`];
}

async function turbo(pnpm, turboArgs) {
  const runsDir = path.join(root, '.turbo', 'runs');
  const before = new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);
  const [command, ...prefix] = pnpm;
  const exitCode = await run(command, [...prefix, 'turbo', ...turboArgs, '--summarize'], {
    TURBO_TELEMETRY_DISABLED: '1',
    TURBO_NO_UPDATE_NOTIFIER: '1',
    NEXT_TELEMETRY_DISABLED: '1',
  });
  const created = existsSync(runsDir)
    ? readdirSync(runsDir).filter((file) => !before.has(file) && file.endsWith('.json'))
    : [];
  const tasks = [];
  for (const file of created) {
    const summary = JSON.parse(readFileSync(path.join(runsDir, file), 'utf8'));
    for (const task of summary.tasks ?? []) {
      tasks.push({ package: task.package, task: task.task, exitCode: task.execution?.exitCode ?? undefined });
    }
    rmSync(path.join(runsDir, file), { force: true });
  }
  return { exitCode, tasks };
}

function run(command, commandArgs, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...extraEnv },
    });
    child.on('error', (error) => {
      console.error(`${command}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function workspacePackages() {
  const workspace = readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [...workspace.matchAll(/^\s*-\s*['"]?([^'"\s#]+)['"]?/gm)].map((match) => match[1]);
  const packages = [];
  for (const glob of globs) {
    const parent = glob.endsWith('/*') ? glob.slice(0, -2) : undefined;
    const dirs = parent
      ? (existsSync(path.join(root, parent)) ? readdirSync(path.join(root, parent)) : []).map((entry) =>
          path.join(parent, entry),
        )
      : [glob];
    for (const dir of dirs) {
      const manifestPath = path.join(root, dir, 'package.json');
      if (!existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      packages.push({ name: manifest.name ?? dir, dir, scripts: manifest.scripts ?? {} });
    }
  }
  return packages.sort((left, right) => left.name.localeCompare(right.name));
}

function summaryPath(pkg) {
  return path.join(root, pkg.dir, 'test-results', 'summary.json');
}

function readSummary(pkg) {
  try {
    const summary = JSON.parse(readFileSync(summaryPath(pkg), 'utf8'));
    return {
      passed: Number(summary.passed) || 0,
      failed: Number(summary.failed) || 0,
      skipped: Number(summary.skipped) || 0,
      failures: Array.isArray(summary.failures) ? summary.failures : [],
    };
  } catch {
    return undefined;
  }
}

function section(title) {
  console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 60 - title.length))}`);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    console.log('tests: 0 passed, 1 failed');
    process.exit(1);
  },
);
