import { isScenarioName } from './scenario.loader';

// On the default route (or scenario `auto`) the prompt picks the scenario: `[scenario: write-file]`.
const MARKER = /\[scenario:\s*([^\]\s]+)\s*\]/;

// The scenario a prompt's marker names, if it has one that is a valid scenario name. Whether the
// scenario exists is for the caller to check (listScenarios / loadScenario).
export function scenarioFromPrompt(prompt: string): string | undefined {
  const name = MARKER.exec(prompt)?.[1];
  return name !== undefined && isScenarioName(name) ? name : undefined;
}

// The first marker in the user's texts, in conversation order.
export function scenarioFromTexts(texts: readonly string[]): string | undefined {
  for (const text of texts) {
    const name = scenarioFromPrompt(text);
    if (name) return name;
  }
  return undefined;
}
