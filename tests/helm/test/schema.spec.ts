import { helm, templateArgs, valuesFile } from '../src/helm';

const minimal = [valuesFile('minimal-values.yaml')];

async function refusal(args: string[]): Promise<string> {
  const result = await helm(args);
  expect(result.code).not.toBe(0);
  return result.stderr;
}

describe('values.schema.json and the chart checks', () => {
  it('should refuse a negative replica count, naming the field', async () => {
    const stderr = await refusal(templateArgs({ valuesFiles: minimal, set: ['gateway.replicas=-1'] }));
    expect(stderr).toContain("at '/gateway/replicas': minimum: got -1, want 0");
  });

  it('should refuse a replica count that is not an integer', async () => {
    const stderr = await refusal([
      ...templateArgs({ valuesFiles: minimal }),
      '--set-json',
      'websocketPool.replicas=1.5',
    ]);
    expect(stderr).toContain("at '/websocketPool/replicas': got number, want integer");
  });

  it('should refuse an unknown executor, listing the known ones', async () => {
    const stderr = await refusal(templateArgs({ valuesFiles: minimal, set: ['agentRunner.executor=foo'] }));
    expect(stderr).toContain("at '/agentRunner/executor': value must be one of 'process', 'kubernetes'");
  });

  it.each([
    ['externalDatabase', ['postgresql.enabled=false', 'externalDatabase.source=existingSecret']],
    ['externalRedis', ['redis.enabled=false', 'externalRedis.source=existingSecret']],
    ['admin', ['admin.source=existingSecret']],
    ['agentRunner/model', ['agentRunner.model.source=existingSecret']],
  ])('should refuse existingSecret mode without a Secret name (%s)', async (field, set) => {
    const stderr = await refusal(templateArgs({ valuesFiles: minimal, set }));
    expect(stderr).toContain(`at '/${field}/existingSecret/name': minLength: got 0, want 1`);
  });

  it('should refuse resources in the wrong shape', async () => {
    const flat = await refusal([
      ...templateArgs({ valuesFiles: minimal }),
      '--set-json',
      'gateway.resources={"cpu":"1"}',
    ]);
    expect(flat).toContain("at '/gateway/resources': additional properties 'cpu' not allowed");
    const bad = await refusal(
      templateArgs({ valuesFiles: minimal, set: ['orchestrator.resources.limits.memory=lots'] }),
    );
    expect(bad).toContain("at '/orchestrator/resources/limits/memory'");
  });

  it('should refuse a misspelt value instead of ignoring it', async () => {
    const stderr = await refusal(templateArgs({ valuesFiles: minimal, set: ['gateway.replicaz=2'] }));
    expect(stderr).toContain("at '/gateway': additional properties 'replicaz' not allowed");
  });

  it('should fail with the values to set when there is no database', async () => {
    const stderr = await refusal(
      templateArgs({ set: ['redis.enabled=true', 'agentRunner.model.anthropicApiKey=sk-test'] }),
    );
    expect(stderr).toContain(
      'hangar: no PostgreSQL: set externalDatabase.url, or externalDatabase.source=existingSecret with externalDatabase.existingSecret.name, or postgresql.enabled=true',
    );
  });

  it('should fail with the values to set when there is no Redis', async () => {
    const stderr = await refusal(
      templateArgs({ set: ['postgresql.enabled=true', 'agentRunner.model.anthropicApiKey=sk-test'] }),
    );
    expect(stderr).toContain('hangar: no Redis: set externalRedis.url');
  });

  it('should fail when the agent-runner has no model at all', async () => {
    const stderr = await refusal(templateArgs({ set: ['postgresql.enabled=true', 'redis.enabled=true'] }));
    expect(stderr).toContain('hangar: the agent-runner needs a model: set agentRunner.model.anthropicApiKey');
  });

  it('should refuse a sandbox mode the runner does not have, and a git host without its address block', async () => {
    const sandbox = await refusal(
      templateArgs({ valuesFiles: minimal, set: ['agentRunner.sandbox=docker'] }),
    );
    expect(sandbox).toContain("at '/agentRunner/sandbox': value must be one of 'bwrap', 'off'");
    const host = await refusal([
      ...templateArgs({ valuesFiles: minimal }),
      '--set-json',
      'networkPolicy.tasks.gitHosts=[{"host":"github.com"}]',
    ]);
    expect(host).toContain("at '/networkPolicy/tasks/gitHosts/0'");
  });
});
