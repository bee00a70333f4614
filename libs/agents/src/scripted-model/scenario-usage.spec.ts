import { claudeCallCostUsd, expectedClaudeCostUsd, expectedUsage } from './scenario-usage';
import type { Scenario } from './scenario.schema';

describe(expectedUsage.name, () => {
  it('should add up every answered step, with step usage over scenario usage over the default', async () => {
    expect(await expectedUsage('edit-file')).toEqual({
      inputTokens: 4000,
      outputTokens: 270,
      cacheReadTokens: 21_500,
      cacheCreationTokens: 900,
    });
    expect(await expectedUsage('write-file')).toEqual({
      inputTokens: 200,
      outputTokens: 40,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
    });
  });

  it('should bill nothing for a step that always fails, and once for one that fails then answers', async () => {
    expect(await expectedUsage('fail')).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
    });
    expect((await expectedUsage('rate-limited')).inputTokens).toBe(100);
  });
});

describe(expectedClaudeCostUsd.name, () => {
  it('should price tokens as Claude Code 2.1.330 does for its default model', async () => {
    expect(await expectedClaudeCostUsd('write-file')).toBeCloseTo(0.0016, 12);
    expect(await expectedClaudeCostUsd('edit-file')).toBeCloseTo(0.0302, 12);
    const usage = {
      inputTokens: 123,
      outputTokens: 45,
      cacheReadInputTokens: 6789,
      cacheCreationInputTokens: 321,
    };
    // Measured: the CLI reported total_cost_usd 0.004354800000000001 for exactly this usage.
    expect(claudeCallCostUsd(usage)).toBe(0.004354800000000001);
  });

  it('should use the named model prices, and the default ones for a model it does not know', async () => {
    const scenario = {
      name: 's',
      path: '',
      description: '',
      steps: [{ text: 'x', errors: [], delayMs: 0, chunkSize: 64, chunkDelayMs: 0 }],
      usage: { inputTokens: 1000, outputTokens: 1000, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    } satisfies Scenario;
    expect(await expectedClaudeCostUsd(scenario, 'claude-sonnet-4-5')).toBeCloseTo(0.018, 12);
    expect(await expectedClaudeCostUsd(scenario, 'claude-haiku-4-5')).toBeCloseTo(0.006, 12);
    expect(await expectedClaudeCostUsd(scenario, 'scripted-unknown')).toBeCloseTo(0.024, 12);
  });
});
