import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SERVICE_PROCESS_ENV } from '@hangar/config';
import {
  copiesOf,
  envOf,
  execForm,
  finalStage,
  instructionsOf,
  parseDockerfile,
  workdirOf,
  type ParsedDockerfile,
} from './support/dockerfile';
import {
  IMAGES,
  dockerignorePatterns,
  dockerignored,
  lockfileImporterVersion,
  readPackage,
  readText,
  repoPath,
  runtimeWorkspaceDependencies,
  type ImageSpec,
} from './support/repo';

// The runtime layout mirrors the repository under this folder (services/<name>/dist/main.js …),
// so a path in the image maps back to the path a build produces in a checkout.
const APP_ROOT = '/app';

function toRepoPath(imagePath: string): string {
  const relative = path.posix.relative(APP_ROOT, imagePath);
  if (relative.startsWith('..')) throw new Error(`${imagePath} is outside ${APP_ROOT}`);
  return relative;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function runText(dockerfile: ParsedDockerfile, stageName?: string): string {
  const stage = stageName
    ? dockerfile.stages.find((candidate) => candidate.name === stageName)
    : finalStage(dockerfile);
  return stage
    ? instructionsOf(stage, 'RUN')
        .map((run) => run.text)
        .join('\n')
    : '';
}

describe.each(IMAGES)('$dir/Dockerfile', (image: ImageSpec) => {
  const dockerfile = parseDockerfile(repoPath(image.dir, 'Dockerfile'));
  const runtime = finalStage(dockerfile);
  const workdir = workdirOf(runtime);

  it('should build in several stages and run on a slim Node base that satisfies the engines field', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(3);
    expect(runtime.base).toMatch(/^node:\d+(\.\d+){0,2}-(bookworm|trixie)-slim$/);
    const major = Number(/^node:(\d+)/.exec(runtime.base)?.[1]);
    const engines = /(\d+)\.(\d+)/.exec(JSON.parse(readText('package.json')).engines.node as string);
    expect(major).toBeGreaterThanOrEqual(Number(engines?.[1]));
  });

  it('should build on the same base image it runs on, so native packages match its libc', () => {
    const stageNames = new Set(dockerfile.stages.map((stage) => stage.name));
    const images = dockerfile.stages.map((stage) => stage.base).filter((base) => !stageNames.has(base));
    expect(new Set(images)).toEqual(new Set([runtime.base]));
  });

  it('should copy only from stages defined before the copy', () => {
    dockerfile.stages.forEach((stage, index) => {
      const earlier = new Set(dockerfile.stages.slice(0, index).map((candidate) => candidate.name));
      for (const copy of copiesOf(stage).filter((step) => step.from !== undefined)) {
        expect({ line: copy.line, from: copy.from, known: earlier.has(copy.from) }).toEqual({
          line: copy.line,
          from: copy.from,
          known: true,
        });
      }
    });
  });

  it('should take pnpm at the root packageManager version and turbo at the lockfile version', () => {
    const packageManager = readPackage('.').packageManager ?? '';
    expect(packageManager).toMatch(/^pnpm@/);
    expect(`pnpm@${dockerfile.args.get('PNPM_VERSION')}`).toBe(packageManager);
    expect(runText(dockerfile, 'base')).toContain('corepack prepare pnpm@${PNPM_VERSION} --activate');
    expect(dockerfile.args.get('TURBO_VERSION')).toBe(lockfileImporterVersion('.', 'turbo'));
    expect(runText(dockerfile, 'prune')).toContain('turbo@${TURBO_VERSION} prune');
  });

  it('should prune, build and deploy the package this Dockerfile is for, without dev dependencies', () => {
    const name = image.packageName;
    expect(runText(dockerfile, 'prune')).toContain(`prune ${name} --docker`);
    const build = runText(dockerfile, 'build');
    expect(build).toContain('pnpm install --frozen-lockfile');
    expect(build).toContain(`turbo run build --filter=${name}`);
    expect(build).toMatch(new RegExp(`pnpm --filter=${name} deploy --prod .*/deploy`));
  });

  it('should copy from the build context only files that exist and .dockerignore lets through', () => {
    const patterns = dockerignorePatterns();
    for (const stage of dockerfile.stages) {
      for (const copy of copiesOf(stage).filter((step) => step.from === undefined)) {
        for (const source of copy.sources) {
          if (source === '.') continue;
          expect({ source, exists: existsSync(repoPath(source)) }).toEqual({ source, exists: true });
          expect({ source, ignored: dockerignored(source, patterns) }).toEqual({ source, ignored: false });
        }
      }
    }
  });

  it('should copy into the runtime stage only what the build produces', () => {
    const copies = copiesOf(runtime);
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      expect(copy.from).toBe('build');
      for (const source of copy.sources) {
        // /deploy is `pnpm deploy`'s copy of the package; /repo is the workspace it was built in.
        const local = source.startsWith('/deploy/')
          ? path.join(image.dir, source.slice('/deploy/'.length))
          : source.replace(/^\/repo\//, '');
        if (local.endsWith('node_modules')) continue;
        expect({ source, exists: existsSync(repoPath(local)) }).toEqual({ source, exists: true });
      }
    }
  });

  it('should run as a non-root user', () => {
    const users = instructionsOf(runtime, 'USER');
    const user = users.at(-1)?.text ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
    const userLine = users.at(-1)?.line ?? Infinity;
    const cmdLine = instructionsOf(runtime, 'CMD').at(-1)?.line ?? 0;
    expect(userLine).toBeLessThan(cmdLine);
  });

  it('should listen on all interfaces, or nothing outside the container reaches it', () => {
    const command = execForm(instructionsOf(runtime, 'CMD').at(-1)!);
    if (image.component === 'dashboard') expect(command.join(' ')).toContain('-H 0.0.0.0');
    else expect(envOf(runtime).get('HOST')).toBe('0.0.0.0');
  });

  it(`should expose the port the service listens on and health-check its route there`, () => {
    expect(instructionsOf(runtime, 'EXPOSE').map((expose) => expose.text)).toEqual([String(image.port)]);
    const healthchecks = instructionsOf(runtime, 'HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    const probe = execForm(healthchecks[0]!).join(' ');
    expect(probe).toContain(`process.env.${image.portVariable} || ${image.port})`);
    expect(probe).toContain(`'${image.healthPath}')`);
    expect(probe).toContain('http://127.0.0.1:');
    // `node -e`: slim images have no curl or wget.
    expect(execForm(healthchecks[0]!)[0]).toBe('node');
  });

  it('should start a file the build produces, copied into the image', () => {
    const command = execForm(instructionsOf(runtime, 'CMD').at(-1)!);
    const entrypoint = instructionsOf(runtime, 'ENTRYPOINT').at(-1);
    if (entrypoint) {
      const [init] = execForm(entrypoint);
      // An init in front (tini): the runtime stage must install it.
      expect(init).toBe('/usr/bin/tini');
      expect(runText(dockerfile)).toMatch(/apt-get install[^\n]*\btini\b/);
    }
    expect(command[0]).toBe('node');
    const script = path.posix.resolve(workdir, command[1] ?? '');
    expect(workdir).toBe(APP_ROOT);
    expect(existsSync(repoPath(toRepoPath(script)))).toBe(true);
    const copied = copiesOf(runtime).some((copy) => script.startsWith(`${copy.destination}/`));
    expect(copied).toBe(true);
  });

  if (image.component === 'dashboard') {
    it('should carry the Next.js build output next start serves', () => {
      expect(existsSync(repoPath('apps/dashboard/.next/BUILD_ID'))).toBe(true);
      const destinations = copiesOf(runtime).map((copy) => copy.destination);
      expect(destinations).toEqual(
        expect.arrayContaining(['/app/apps/dashboard/.next', '/app/apps/dashboard/next.config.mjs']),
      );
    });
    return;
  }

  it('should start the service with the environment every way of starting it sets (SERVICE_PROCESS_ENV)', () => {
    const env = envOf(runtime);
    for (const [name, value] of Object.entries(SERVICE_PROCESS_ENV))
      expect([name, env.get(name)]).toEqual([name, value]);
  });

  it('should carry libs/db and prisma/migrations, so it can run the migrations', () => {
    expect(runtimeWorkspaceDependencies(image.dir).has('@hangar/db')).toBe(true);
    expect(runText(dockerfile)).toContain(`ln -s ../${image.dir}/node_modules/@hangar/db libs/db`);
    expect(existsSync(repoPath('libs/db/dist/migrate-cli.js'))).toBe(true);
    // Resolved from the real path under node_modules/.pnpm, the default would miss it.
    const migrationsDir = envOf(runtime).get('HANGAR_MIGRATIONS_DIR') ?? '';
    expect(copiesOf(runtime).map((copy) => copy.destination)).toContain(migrationsDir);
    expect(readText('libs/db/src/migrate-cli.ts')).toContain('process.env.HANGAR_MIGRATIONS_DIR');
  });
});

describe('services/agent-runner/Dockerfile', () => {
  const dockerfile = parseDockerfile(repoPath('services/agent-runner/Dockerfile'));
  const runtime = finalStage(dockerfile);

  it('should install git (workspaces) and ssh (GIT_SSH_KEY_PATH pushes) in the runtime stage', () => {
    expect(runText(dockerfile)).toMatch(/apt-get install[^\n]*\bgit\b[^\n]*\bopenssh-client\b/);
  });

  it("should install bubblewrap and socat, the agents' sandbox, in the runtime stage", () => {
    expect(runText(dockerfile)).toMatch(/apt-get install[^\n]*\bbubblewrap\b[^\n]*\bsocat\b/);
  });

  it('should carry every agent CLI libs/agents supports, checked at build time', () => {
    const agents = readPackage('libs/agents');
    const clis = ['@anthropic-ai/claude-code', '@openai/codex', '@google/gemini-cli'];
    expect(Object.keys(agents.dependencies ?? {})).toEqual(expect.arrayContaining(clis));
    expect(runtimeWorkspaceDependencies('services/agent-runner').has('@hangar/agents')).toBe(true);
    // claude's native binary is linked by its install script: allowed to run, or it is missing.
    const root = JSON.parse(readText('package.json')) as { pnpm: { onlyBuiltDependencies: string[] } };
    expect(root.pnpm.onlyBuiltDependencies).toContain('@anthropic-ai/claude-code');
    const build = runText(dockerfile, 'build');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const built = require(repoPath('libs/agents/dist')) as Record<string, unknown>;
    for (const resolver of ['resolveClaudeBinary', 'resolveCodexBinary', 'resolveGeminiScript']) {
      expect(build).toContain(`${resolver}()`);
      expect(typeof built[resolver]).toBe('function');
    }
    expect(build).not.toMatch(/rm -rf[^\n]*(claude-code|codex|gemini-cli)/);
  });

  it('should carry the scripted model and its built-in scenarios (libs/agents files)', () => {
    expect(runText(dockerfile)).toContain(
      'ln -s ../services/agent-runner/node_modules/@hangar/agents libs/agents',
    );
    expect(existsSync(repoPath('libs/agents/dist/scripted-model/main.js'))).toBe(true);
    expect(readPackage('libs/agents').files).toEqual(expect.arrayContaining(['dist', 'scenarios']));
  });

  it('should keep workspaces and agent homes in folders the runtime user owns', () => {
    const env = envOf(runtime);
    const run = runText(dockerfile);
    for (const variable of ['WORKSPACE_ROOT', 'RUNNER_HOME_ROOT']) {
      const folder = env.get(variable) ?? '';
      expect(folder).toMatch(/^\/var\/lib\/hangar\//);
      expect(run).toContain(folder);
      expect(readText('services/agent-runner/src/config.ts')).toContain(`${variable}: z`);
    }
    expect(run).toContain('chown -R hangar:hangar /var/lib/hangar');
  });
});

describe('services/gateway/Dockerfile', () => {
  it('should leave out the agent CLIs only because the gateway never starts one', () => {
    const dockerfile = parseDockerfile(repoPath('services/gateway/Dockerfile'));
    expect(runText(dockerfile, 'build')).toMatch(/rm -rf[^\n]*claude-code/);
    const starts = /resolveClaudeBinary|resolveCodexBinary|resolveGeminiScript|agentAdapterFor|spawnAgent/;
    const offenders = sourceFiles(repoPath('services/gateway/src')).filter((file) =>
      starts.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});

describe('.dockerignore', () => {
  const patterns = dockerignorePatterns();

  it('should keep installs, builds and secrets of this checkout out of the build context', () => {
    for (const excluded of [
      'node_modules/x',
      'services/gateway/node_modules/x',
      'services/gateway/dist/main.js',
      'apps/dashboard/.next/BUILD_ID',
      'libs/db/src/generated/prisma/client.ts',
      'deploy/compose/.env',
      '.git/HEAD',
    ]) {
      expect({ excluded, ignored: dockerignored(excluded, patterns) }).toEqual({ excluded, ignored: true });
    }
  });

  it('should keep every workspace package.json, which turbo prune reads', () => {
    const workspace = readFileSync(repoPath('pnpm-workspace.yaml'), 'utf8');
    expect(workspace).toContain('services/*');
    for (const kept of [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      'turbo.json',
      'tests/e2e/package.json',
      'bench/realtime/package.json',
    ]) {
      expect({ kept, ignored: dockerignored(kept, patterns) }).toEqual({ kept, ignored: false });
    }
  });
});
