import type { TaskUsage } from '@hangar/contracts';
import { callCostUsd, MODEL_PRICES } from '../pricing';
import { loadScenario } from './scenario.loader';
import type { Scenario, ScriptedUsage } from './scenario.schema';
import { stepUsage } from './scripted-model.server';

// The model Claude Code 2.1.330 asks for when no --model is given; it also prices unknown models so.
export const CLAUDE_DEFAULT_MODEL = 'claude-opus-5-5';

// The usage of every step that gets a reply; a step that always fails is never billed.
function billedSteps(scenario: Scenario): ScriptedUsage[] {
  return scenario.steps
    .filter((step) => !step.errors.some((error) => error.times === 'always'))
    .map((step) => stepUsage(scenario, step));
}

async function resolveScenario(scenario: string | Scenario, scenariosDir?: string): Promise<Scenario> {
  return typeof scenario === 'string' ? loadScenario(scenario, scenariosDir) : scenario;
}

// The token counts a CLI reports after running the whole scenario once: main-loop steps only
// (side calls such as titles are not billed by Claude Code in -p mode).
export async function expectedUsage(scenario: string | Scenario, scenariosDir?: string): Promise<TaskUsage> {
  const total: TaskUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
  for (const usage of billedSteps(await resolveScenario(scenario, scenariosDir))) {
    total.inputTokens += usage.inputTokens;
    total.outputTokens += usage.outputTokens;
    total.cacheReadTokens += usage.cacheReadInputTokens;
    total.cacheCreationTokens += usage.cacheCreationInputTokens;
  }
  return total;
}

export function claudeCallCostUsd(usage: ScriptedUsage, model: string = CLAUDE_DEFAULT_MODEL): number {
  const price = MODEL_PRICES[model] ?? MODEL_PRICES[CLAUDE_DEFAULT_MODEL];
  if (!price) throw new Error(`no price for ${CLAUDE_DEFAULT_MODEL}`);
  return callCostUsd(price, {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cacheReadTokens: usage.cacheReadInputTokens,
    cacheWriteTokens: usage.cacheCreationInputTokens,
  });
}

// The total_cost_usd Claude Code reports after running the whole scenario once with `model`.
export async function expectedClaudeCostUsd(
  scenario: string | Scenario,
  model: string = CLAUDE_DEFAULT_MODEL,
  scenariosDir?: string,
): Promise<number> {
  return billedSteps(await resolveScenario(scenario, scenariosDir)).reduce(
    (total, usage) => total + claudeCallCostUsd(usage, model),
    0,
  );
}
