'use client';

import type { ScenarioList } from '@hangar/contracts';
import { useId } from 'react';
import { useApi } from '../lib/use-api';

// Shown only while the scripted model answers (no real model key): which scenario replies.
export function ScenarioPicker({ name = 'scenario' }: { name?: string }) {
  const scenarios = useApi<ScenarioList>('/scenarios');
  const id = useId();
  if (!scenarios.data?.scriptedModel) return null;
  // A label beside the select, not around it: a wrapping label's name takes in the chosen
  // option's text too ("… from the prompt"), which read as a second "Prompt" field.
  return (
    <div className="field">
      <label htmlFor={id}>Scenario (scripted model)</label>
      <select id={id} name={name} defaultValue="">
        <option value="">from the prompt</option>
        {scenarios.data.items.map((scenario) => (
          <option key={scenario.name} value={scenario.name} title={scenario.description}>
            {scenario.name}
          </option>
        ))}
      </select>
    </div>
  );
}
