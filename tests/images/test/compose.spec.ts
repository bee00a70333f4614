import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { envOf, finalStage, instructionsOf, parseDockerfile } from './support/dockerfile';
import {
  COMPOSE_FILE,
  bindMounts,
  builtFrom,
  envExampleVariables,
  loadCompose,
  namedVolumes,
  type ComposeService,
} from './support/compose';
import { COMPOSE_DIR, IMAGES, REPO_ROOT, SERVICES, readText, repoPath } from './support/repo';

const compose = loadCompose();
const services = Object.entries(compose.services);
// The long-running services (migrate and scripted-model reuse their images with a command).
const hangarServices = services.filter(
  ([, service]) => builtFrom(service)?.startsWith('services/') && service.command === undefined,
);

function dockerfileOf(service: ComposeService) {
  const dir = builtFrom(service);
  return dir ? parseDockerfile(repoPath(dir, 'Dockerfile')) : undefined;
}

function hasHealthcheck(service: ComposeService): boolean {
  if (service.healthcheck?.disable) return false;
  if (service.healthcheck?.test) return true;
  const dockerfile = dockerfileOf(service);
  return dockerfile !== undefined && instructionsOf(finalStage(dockerfile), 'HEALTHCHECK').length > 0;
}

describe('deploy/compose/docker-compose.yml', () => {
  it('should validate against the Compose Specification schema', () => {
    // dclint ships the compose-spec project's JSON schema (draft-07).
    const schemaFile = path.join(
      path.dirname(require.resolve('dclint/package.json')),
      'schemas',
      'compose.schema.json',
    );
    // Its $schema names draft-07 by an https URL Ajv does not list; Ajv's default is draft-07.
    const { $schema: _draft, ...schema } = JSON.parse(readFileSync(schemaFile, 'utf8')) as {
      $schema?: string;
    };
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    // Validated as written (anchors expanded, merge keys kept): what compose itself checks.
    const asWritten: unknown = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true });
    const valid = validate(asWritten);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('should build every Hangar image from the repository root with its own Dockerfile', () => {
    const built = services.filter(([, service]) => service.build);
    expect(built.map(([, service]) => builtFrom(service)).sort()).toEqual(
      expect.arrayContaining(IMAGES.map((image) => image.dir).sort()),
    );
    for (const [name, service] of built) {
      expect({ name, context: path.resolve(COMPOSE_DIR, service.build!.context) }).toEqual({
        name,
        context: REPO_ROOT,
      });
      expect({ name, dockerfile: existsSync(path.resolve(REPO_ROOT, service.build!.dockerfile!)) }).toEqual({
        name,
        dockerfile: true,
      });
    }
  });

  it('should tag each image hangar-<component> (as the Helm chart names them), one Dockerfile per tag', () => {
    const dockerfileByImage = new Map<string, string>();
    for (const [name, service] of services.filter(([, candidate]) => candidate.build)) {
      const dir = builtFrom(service)!;
      expect({ name, image: service.image?.split(':')[0] }).toEqual({
        name,
        image: `hangar-${path.posix.basename(dir)}`,
      });
      const earlier = dockerfileByImage.get(service.image!);
      // Two Dockerfiles under one tag: whichever builds last wins, for both services.
      if (earlier) expect({ name, dockerfile: dir }).toEqual({ name, dockerfile: earlier });
      dockerfileByImage.set(service.image!, dir);
    }
  });

  it('should depend only on services it defines, and wait on health only where there is a check', () => {
    for (const [name, service] of services) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ name, target, defined: target in compose.services }).toEqual({
          name,
          target,
          defined: true,
        });
        if (condition === 'service_healthy') {
          expect({ name, target, healthcheck: hasHealthcheck(compose.services[target]!) }).toEqual({
            name,
            target,
            healthcheck: true,
          });
        }
        if (condition === 'service_completed_successfully') {
          expect({ target, restart: compose.services[target]!.restart ?? 'no' }).toEqual({
            target,
            restart: 'no',
          });
        }
      }
    }
  });

  it('should migrate once, with libs/db from an image, before any Hangar service starts', () => {
    const [migrateName, migrate] =
      services.find(([, service]) => service.command?.join(' ') === 'node libs/db/dist/migrate-cli.js') ?? [];
    expect(migrateName).toBeDefined();
    expect(migrate?.depends_on?.['postgres']?.condition).toBe('service_healthy');
    expect(readText(builtFrom(migrate!)!, 'Dockerfile')).toContain('libs/db');
    expect(hangarServices.length).toBe(SERVICES.length);
    for (const [name, service] of hangarServices) {
      expect({ name, migrate: service.depends_on?.[migrateName!]?.condition }).toEqual({
        name,
        migrate: 'service_completed_successfully',
      });
    }
  });

  it('should give every Hangar service the database, Redis, all interfaces and the OTLP endpoint', () => {
    // The variable the services read (libs/config): a typo here silently turns tracing off.
    expect(readText('libs/config/src/common.ts')).toContain('OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(');
    for (const [name, service] of hangarServices) {
      const env = service.environment ?? {};
      const dockerEnv = envOf(finalStage(dockerfileOf(service)!));
      expect({ name, host: env['HOST'] ?? dockerEnv.get('HOST') }).toEqual({ name, host: '0.0.0.0' });
      expect({ name, db: String(env['DATABASE_URL']) }).toEqual({
        name,
        db: expect.stringContaining('@postgres:5432/'),
      });
      expect({ name, redis: env['REDIS_URL'] }).toEqual({ name, redis: 'redis://redis:6379' });
      expect({ name, otlp: env['OTEL_EXPORTER_OTLP_ENDPOINT'] }).toEqual({
        name,
        otlp: 'http://jaeger:4318',
      });
      // NGINX's upstreams and Prometheus' targets use the default ports.
      expect(Object.keys(env).filter((variable) => variable.endsWith('_PORT'))).toEqual([]);
    }
    expect(compose.services['jaeger']?.environment?.['COLLECTOR_OTLP_ENABLED']).toBe('true');
  });

  it('should mount only files that exist, into folders the images read', () => {
    for (const [name, service] of services) {
      for (const mount of bindMounts(service)) {
        expect({
          name,
          source: path.relative(REPO_ROOT, mount.source),
          exists: existsSync(mount.source),
        }).toEqual({
          name,
          source: path.relative(REPO_ROOT, mount.source),
          exists: true,
        });
      }
    }
  });

  it('should declare every named volume, and keep the runner data where the image puts it', () => {
    for (const [, service] of services) {
      for (const volume of namedVolumes(service))
        expect(Object.keys(compose.volumes ?? {})).toContain(volume.name);
    }
    const runner = services.find(
      ([, service]) => builtFrom(service) === 'services/agent-runner' && !service.command,
    )?.[1];
    const env = envOf(finalStage(dockerfileOf(runner!)!));
    const targets = namedVolumes(runner!).map((volume) => volume.target);
    expect(targets).toEqual(expect.arrayContaining([env.get('WORKSPACE_ROOT'), env.get('RUNNER_HOME_ROOT')]));
  });

  it("should let only the agent-runner make its agents' sandboxes (user namespaces, its own procfs)", () => {
    const relaxed = services.filter(([, service]) => (service.security_opt ?? []).length > 0);
    expect(relaxed.map(([name]) => name)).toEqual(['agent-runner']);
    expect(compose.services['agent-runner']?.security_opt).toEqual([
      'seccomp=unconfined',
      'apparmor=unconfined',
      'systempaths=unconfined',
    ]);
    expect(compose.services['agent-runner']?.environment?.['RUNNER_SANDBOX']).toBeUndefined();
  });

  it('should take every required variable and env_file from .env.example', () => {
    const text = readFileSync(COMPOSE_FILE, 'utf8');
    const example = envExampleVariables();
    const required = [...text.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((match) => match[1] ?? '');
    expect(required.length).toBeGreaterThan(0);
    for (const variable of required)
      expect({ variable, set: example.has(variable) }).toEqual({ variable, set: true });
    for (const [, service] of services) {
      const files = [service.env_file ?? []].flat();
      for (const file of files) expect(file).toBe('.env');
    }
    expect(readText('.gitignore').split('\n')).toContain('.env');
  });

  it('should run tasks against the scripted model by default, from the agent-runner image', () => {
    const example = envExampleVariables();
    const url = new URL(example.get('SCRIPTED_MODEL_URL') ?? '');
    const scripted = compose.services[url.hostname];
    expect(scripted).toBeDefined();
    expect(builtFrom(scripted!)).toBe('services/agent-runner');
    expect(scripted!.command).toEqual(['node', 'libs/agents/dist/scripted-model/main.js']);
    expect(scripted!.environment?.['SCRIPTED_MODEL_HOST']).toBe('0.0.0.0');
    expect(String(scripted!.environment?.['SCRIPTED_MODEL_PORT'])).toBe(url.port);
    expect(JSON.stringify(scripted!.healthcheck?.test)).toContain(`:${url.port}/health`);
    // An empty key fails the runner's config (min length 1): the example leaves keys out.
    expect(example.has('ANTHROPIC_API_KEY')).toBe(false);
    for (const name of ['gateway', 'agent-runner']) expect(compose.services[name]?.env_file).toBe('.env');
  });

  it('should publish only NGINX, Grafana, Prometheus and Jaeger on the host', () => {
    const published = services
      .filter(([, service]) => (service.ports ?? []).length > 0)
      .map(([name]) => name);
    expect(published.sort()).toEqual(['grafana', 'jaeger', 'nginx', 'prometheus']);
    expect(compose.services['nginx']?.ports).toEqual(['${HANGAR_HTTP_PORT:-8080}:80']);
  });
});
