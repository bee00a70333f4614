import { SERVICE_PROCESS_ENV } from '@hangar/config';
import { DEFAULT_PORTS, type CliEnv } from '../src/config/cli-env';
import { planStack, SERVICE_NAMES } from '../src/stack/stack-plan';

describe('planStack', () => {
  const env = (inherited: Record<string, string> = {}): CliEnv => ({
    apiUrl: 'http://127.0.0.1:4005',
    wsUrl: 'http://127.0.0.1:4006',
    databaseUrl: 'postgresql://postgres@127.0.0.1:5432/hangar',
    redisUrl: 'redis://127.0.0.1:6379',
    ports: DEFAULT_PORTS,
    hasAnthropicKey: false,
    scriptedModelUrl: undefined,
    repoRoot: '/opt/hangar',
    hangarHome: '/root/.hangar',
    token: undefined,
    searchPath: '/usr/bin:/bin',
    isRoot: true,
    color: { stdout: false, stderr: false },
    interactive: false,
    inherited,
  });

  it('should start every service with the environment the images and test stacks give them', () => {
    const plan = planStack(env(), { ports: DEFAULT_PORTS, dashboard: false });
    expect(plan.services.map((service) => service.name)).toEqual([...SERVICE_NAMES]);
    for (const service of plan.services) expect(service.env).toMatchObject(SERVICE_PROCESS_ENV);
  });

  it("should let the operator's own environment override it", () => {
    const plan = planStack(env({ MALLOC_MMAP_THRESHOLD_: '262144' }), {
      ports: DEFAULT_PORTS,
      dashboard: false,
    });
    for (const service of plan.services) expect(service.env.MALLOC_MMAP_THRESHOLD_).toBe('262144');
  });
});
