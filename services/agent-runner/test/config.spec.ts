import { ConfigError, parseConfig } from '@hangar/config';
import { AgentRunnerConfigSchema } from '../src/config';
import { offeredProviders } from '../src/modules/intake/runner-offer';

// The lines the runner prints (one per bad variable) before it exits without starting.
function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(AgentRunnerConfigSchema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('agent-runner configuration', () => {
  const base = { SCRIPTED_MODEL_URL: 'http://127.0.0.1:4010' };

  it('should run agents as processes unless told otherwise', () => {
    expect(AgentRunnerConfigSchema.parse(base).RUNNER_EXECUTOR).toBe('process');
  });

  it('should refuse an executor it does not have, naming the setting', () => {
    const parsed = AgentRunnerConfigSchema.safeParse({ ...base, RUNNER_EXECUTOR: 'docker' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['RUNNER_EXECUTOR']);
  });

  it('should refuse the kubernetes executor without the image of task Jobs or the task API URL', () => {
    const parsed = AgentRunnerConfigSchema.safeParse({ ...base, RUNNER_EXECUTOR: 'kubernetes' });
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['RUNNER_JOB_IMAGE'],
        message: expect.stringContaining('image of task Jobs'),
      }),
      expect.objectContaining({
        path: ['RUNNER_TASK_API_URL'],
        message: expect.stringContaining("URL task pods reach this runner's task API at"),
      }),
    ]);
  });

  it('should keep no warm task pods unless asked, and refuse them where there are no task pods or beyond 100', () => {
    const kubernetes = {
      ...base,
      RUNNER_EXECUTOR: 'kubernetes',
      RUNNER_JOB_IMAGE: 'registry.example.com/hangar/agent-runner:1',
      RUNNER_TASK_API_URL: 'http://hangar-agent-runner.hangar.svc:4011',
    };
    expect(AgentRunnerConfigSchema.parse(kubernetes).RUNNER_JOB_WARM_MAX).toBe(0);
    expect(
      AgentRunnerConfigSchema.parse({ ...kubernetes, RUNNER_JOB_WARM_MAX: '8' }).RUNNER_JOB_WARM_MAX,
    ).toBe(8);
    expect(problemsOf({ ...kubernetes, RUNNER_JOB_WARM_MAX: '101' })).toEqual([
      expect.stringMatching(/^RUNNER_JOB_WARM_MAX .*<=100/),
    ]);
    expect(problemsOf({ ...base, RUNNER_JOB_WARM_MAX: '2' })).toEqual([
      expect.stringMatching(/^RUNNER_JOB_WARM_MAX.*kubernetes executor's.*RUNNER_WARM_MAX/),
    ]);
  });

  it('should start with credential pools alone, and offer only the providers that have a model', () => {
    const pools = { claude: [{ name: 'team-a', key: 'sk-ant-a', maxConcurrent: 2 }] };
    const config = AgentRunnerConfigSchema.parse({ MODEL_CREDENTIALS: JSON.stringify(pools) });
    expect(config.MODEL_CREDENTIALS).toEqual(pools);
    expect(offeredProviders(config)).toEqual(['claude']);
    expect(problemsOf({})[0]).toMatch(/^ANTHROPIC_API_KEY .*MODEL_CREDENTIALS/);
    // Names are unique within a provider, and a credential has its key.
    expect(
      problemsOf({ MODEL_CREDENTIALS: JSON.stringify({ claude: [pools.claude[0], pools.claude[0]] }) })[0],
    ).toMatch(/^MODEL_CREDENTIALS/);
    expect(problemsOf({ MODEL_CREDENTIALS: '{"claude":[{"name":"a"}]}' })[0]).toMatch(/^MODEL_CREDENTIALS/);
  });

  it("should add an installation's model prices to the table, and refuse a price that is none", () => {
    const prices = { 'my-model': { input: 1, output: 2, cacheRead: 0.1, cacheWrite: 0 } };
    expect(
      AgentRunnerConfigSchema.parse({ ...base, MODEL_PRICES: JSON.stringify(prices) }).MODEL_PRICES,
    ).toEqual(prices);
    const problems = problemsOf({
      ...base,
      MODEL_PRICES: '{"my-model":{"input":-1,"output":2,"cacheRead":0,"cacheWrite":0}}',
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^MODEL_PRICES/);
    expect(problemsOf({ ...base, MODEL_PRICES: '{"my-model":{"input":1}}' })[0]).toMatch(/^MODEL_PRICES/);
  });

  it('should read the Job settings an operator writes as JSON, and name the wrong one', () => {
    const config = AgentRunnerConfigSchema.parse({
      ...base,
      RUNNER_EXECUTOR: 'kubernetes',
      RUNNER_JOB_IMAGE: 'hangar/agent-runner:1',
      RUNNER_JOB_NODE_SELECTOR: '{"sandbox":"gvisor"}',
      RUNNER_JOB_TOLERATIONS: '[{"key":"sandbox","operator":"Exists","effect":"NoSchedule"}]',
      RUNNER_JOB_RESOURCES: '{"limits":{"cpu":2,"memory":"4Gi"}}',
      RUNNER_TASK_API_URL: 'http://hangar-agent-runner.hangar.svc:4011',
    });
    expect(config.RUNNER_JOB_NODE_SELECTOR).toEqual({ sandbox: 'gvisor' });
    expect(config.RUNNER_JOB_TOLERATIONS).toEqual([
      { key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(config.RUNNER_JOB_RESOURCES).toEqual({ limits: { cpu: '2', memory: '4Gi' } });
    expect(config.RUNNER_TASK_API_URL).toBe('http://hangar-agent-runner.hangar.svc:4011');
    for (const [setting, value] of [
      ['RUNNER_JOB_NODE_SELECTOR', '{sandbox'],
      ['RUNNER_JOB_TOLERATIONS', '[{"operator":"Sometimes"}]'],
      ['RUNNER_TASK_API_URL', 'hangar-agent-runner:4011'],
      ['RUNNER_MAX_JOBS', '0'],
    ] as const) {
      const parsed = AgentRunnerConfigSchema.safeParse({ ...base, [setting]: value });
      expect(parsed.error?.issues.map((issue) => issue.path[0])).toEqual([setting]);
    }
  });

  it("should refuse to start while a task pod's old credential settings are set, naming each", () => {
    expect(
      problemsOf({
        ...base,
        RUNNER_JOB_DATABASE_URL_SECRET: 'hangar-db/url',
        RUNNER_JOB_API_KEY_SECRET: 'hangar-model-keys',
      }),
    ).toEqual([
      "RUNNER_JOB_DATABASE_URL_SECRET (removed: task pods get only their attempt's token): is no longer read: task pods hold no database, Redis or model credential, only their attempt's token for the runner's task API (docs/kubernetes.md); remove it — got \"hangar-db/url\"",
      "RUNNER_JOB_API_KEY_SECRET (removed: task pods get only their attempt's token): is no longer read: task pods hold no database, Redis or model credential, only their attempt's token for the runner's task API (docs/kubernetes.md); remove it — got \"hangar-model-keys\"",
    ]);
  });

  describe('git hosts and credentials', () => {
    const TOKEN = 'ghp_0ld5ecretT0kenValue';

    it('should refuse to start while GIT_PUSH_TOKEN is set, in one line that names what replaces it', () => {
      const problems = problemsOf({ ...base, GIT_PUSH_TOKEN: TOKEN });

      expect(problems).toEqual([
        "GIT_PUSH_TOKEN (replaced by GIT_CREDENTIALS): is no longer read: remove it and put the token in GIT_CREDENTIALS, bound to its host (or in the project's git hosts)",
      ]);
      expect(problems.join('\n')).not.toContain(TOKEN);
    });

    it('should allow the big public hosts by default, and no installation credentials', () => {
      const config = AgentRunnerConfigSchema.parse(base);

      expect(config.GIT_ALLOWED_HOSTS).toEqual(['github.com', 'gitlab.com', 'bitbucket.org']);
      expect(config.GIT_CREDENTIALS).toEqual([]);
    });

    it('should read credentials bound to allowed hosts', () => {
      const config = AgentRunnerConfigSchema.parse({
        ...base,
        GIT_ALLOWED_HOSTS: 'github.com, Git.Example.com:8443',
        GIT_CREDENTIALS: JSON.stringify([
          { host: 'github.com', token: TOKEN },
          { host: 'git.example.com:8443', username: 'oauth2', token: 'glpat-x' },
        ]),
      });

      expect(config.GIT_ALLOWED_HOSTS).toEqual(['github.com', 'git.example.com:8443']);
      expect(config.GIT_CREDENTIALS).toEqual([
        { host: 'github.com', token: TOKEN },
        { host: 'git.example.com:8443', username: 'oauth2', token: 'glpat-x' },
      ]);
    });

    it.each([
      [
        'not JSON',
        `[{"host":"github.com","token":"${TOKEN}"`,
        'GIT_CREDENTIALS (HTTPS credentials of projects without git hosts of their own, as JSON: [{"host":"github.com","username":"x-access-token","token":"…"}]): must be JSON',
      ],
      ['an entry without a token', '[{"host":"github.com"}]', expect.stringMatching(/: entry 1 token: /)],
      [
        'a token with a line break',
        JSON.stringify([{ host: 'github.com', token: `${TOKEN}\n` }]),
        expect.stringMatching(/: entry 1 token: must be printable ASCII without spaces$/),
      ],
      [
        'a host twice',
        JSON.stringify([
          { host: 'github.com', token: 'a' },
          { host: 'GitHub.com', token: 'b' },
        ]),
        expect.stringMatching(/: entry 2 host: is listed twice$/),
      ],
      [
        'a host that is not allowed',
        JSON.stringify([{ host: 'git.internal', token: TOKEN }]),
        expect.stringMatching(
          /: git\.internal not in GIT_ALLOWED_HOSTS: credentials are offered to allowed hosts only$/,
        ),
      ],
    ])('should refuse GIT_CREDENTIALS with %s in one line, never echoing it', (_what, value, line) => {
      const problems = problemsOf({ ...base, GIT_CREDENTIALS: value });

      expect(problems).toEqual([line]);
      expect(problems[0]).toMatch(/^GIT_CREDENTIALS /);
      expect(problems[0]).not.toContain(TOKEN);
    });

    it('should refuse a GIT_ALLOWED_HOSTS entry that is no host, naming the setting', () => {
      const problems = problemsOf({ ...base, GIT_ALLOWED_HOSTS: 'github.com,https://gitlab.com' });

      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^GIT_ALLOWED_HOSTS .*: must be a host name with an optional :port/);
    });
  });
});
