import type { AgentProvider } from '@hangar/agents';
import { resolveClaudeBinary, resolveCodexBinary, resolveGeminiScript } from '@hangar/agents';
import type { AgentRunnerConfig } from '../../config';

// The agent CLIs this runner can run: installed here (the process executor) or in the task image
// (the same image: the kubernetes executor), with a model to talk to: the scripted model, or the
// provider's key.
export function offeredProviders(config: AgentRunnerConfig): AgentProvider[] {
  const scripted = Boolean(config.SCRIPTED_MODEL_URL);
  const checks: [AgentProvider, boolean, () => unknown][] = [
    ['claude', scripted || Boolean(config.ANTHROPIC_API_KEY), () => resolveClaudeBinary(config.CLAUDE_BIN)],
    ['codex', scripted || Boolean(config.OPENAI_API_KEY), () => resolveCodexBinary()],
    ['gemini', scripted || Boolean(config.GEMINI_API_KEY), () => resolveGeminiScript()],
  ];
  return checks.filter(([, model, installed]) => model && found(installed)).map(([provider]) => provider);
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
