'use client';

import type { ScenarioList } from '@hangar/contracts';
import { useApi } from '../lib/use-api';

// Shown only while the scripted model answers (no real model key): which scenario replies.
export function ScenarioPicker({ name = 'scenario' }: { name?: string }) {
  const scenarios = useApi<ScenarioList>('/scenarios');
  if (!scenarios.data?.scriptedModel) return null;
  return (
    <label>
      Scenario (scripted model)
      <select name={name} defaultValue="">
        <option value="">from the prompt</option>
        {scenarios.data.items.map((scenario) => (
          <option key={scenario.name} value={scenario.name} title={scenario.description}>
            {scenario.name}
          </option>
        ))}
      </select>
    </label>
  );
}
