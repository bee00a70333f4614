import type { AgentProvider } from '@hangar/agents';
import { resolveClaudeBinary, resolveCodexBinary, resolveGeminiScript } from '@hangar/agents';
import { hasModel, type AgentRunnerConfig } from '../../config';

// The agent CLIs this runner can run: installed here (the process executor) or in the task image
// (the same image: the kubernetes executor), with a model to talk to: the scripted model, or the
// provider's credentials (hasModel).
export function offeredProviders(config: AgentRunnerConfig): AgentProvider[] {
  const checks: [AgentProvider, () => unknown][] = [
    ['claude', () => resolveClaudeBinary(config.CLAUDE_BIN)],
    ['codex', () => resolveCodexBinary()],
    ['gemini', () => resolveGeminiScript()],
  ];
  return checks
    .filter(([provider, installed]) => hasModel(config, provider) && found(installed))
    .map(([provider]) => provider);
}

function found(resolve: () => unknown): boolean {
  try {
    resolve();
    return true;
  } catch {
    return false;
  }
}

// The labels this runner offers: its own, and pool=… and executor=…, sorted.
export function offeredLabels(config: AgentRunnerConfig): string[] {
  return [
    ...new Set([...config.RUNNER_LABELS, `pool=${config.RUNNER_POOL}`, `executor=${config.RUNNER_EXECUTOR}`]),
  ].sort();
}
