import { AgentRunnerConfigSchema } from '../src/config';

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

  it('should refuse the kubernetes executor without the image of task Jobs', () => {
    const parsed = AgentRunnerConfigSchema.safeParse({ ...base, RUNNER_EXECUTOR: 'kubernetes' });
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['RUNNER_JOB_IMAGE'],
        message: expect.stringContaining('image of task Jobs'),
      }),
    ]);
  });

  it('should read the Job settings an operator writes as JSON, and name the wrong one', () => {
    const config = AgentRunnerConfigSchema.parse({
      ...base,
      RUNNER_EXECUTOR: 'kubernetes',
      RUNNER_JOB_IMAGE: 'hangar/agent-runner:1',
      RUNNER_JOB_NODE_SELECTOR: '{"sandbox":"gvisor"}',
      RUNNER_JOB_TOLERATIONS: '[{"key":"sandbox","operator":"Exists","effect":"NoSchedule"}]',
      RUNNER_JOB_RESOURCES: '{"limits":{"cpu":2,"memory":"4Gi"}}',
      RUNNER_JOB_DATABASE_URL_SECRET: 'hangar-postgresql/DATABASE_URL',
    });
    expect(config.RUNNER_JOB_NODE_SELECTOR).toEqual({ sandbox: 'gvisor' });
    expect(config.RUNNER_JOB_TOLERATIONS).toEqual([
      { key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(config.RUNNER_JOB_RESOURCES).toEqual({ limits: { cpu: '2', memory: '4Gi' } });
    expect(config.RUNNER_JOB_DATABASE_URL_SECRET).toEqual({ name: 'hangar-postgresql', key: 'DATABASE_URL' });
    for (const [setting, value] of [
      ['RUNNER_JOB_NODE_SELECTOR', '{sandbox'],
      ['RUNNER_JOB_TOLERATIONS', '[{"operator":"Sometimes"}]'],
      ['RUNNER_JOB_DATABASE_URL_SECRET', 'no-key'],
      ['RUNNER_MAX_JOBS', '0'],
    ] as const) {
      const parsed = AgentRunnerConfigSchema.safeParse({ ...base, [setting]: value });
      expect(parsed.error?.issues.map((issue) => issue.path[0])).toEqual([setting]);
    }
  });
});
