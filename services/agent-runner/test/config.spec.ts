import { AgentRunnerConfigSchema } from '../src/config';

describe('agent-runner configuration', () => {
  const base = { SCRIPTED_MODEL_URL: 'http://127.0.0.1:4010' };

  it('should run agents as processes unless told otherwise', () => {
    expect(AgentRunnerConfigSchema.parse(base).RUNNER_EXECUTOR).toBe('process');
  });

  it('should refuse an executor it does not have, naming the setting', () => {
    for (const RUNNER_EXECUTOR of ['kubernetes', 'docker']) {
      const parsed = AgentRunnerConfigSchema.safeParse({ ...base, RUNNER_EXECUTOR });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain('RUNNER_EXECUTOR');
    }
  });
});
