import { Inject, Injectable } from '@nestjs/common';
import { HangarError, type ScenarioList } from '@hangar/contracts';
import { listScenarios, scenarioFromPrompt } from '@hangar/agents';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

// Which scripted-model scenarios a task may name: none when a real model is configured.
@Injectable()
export class ScenarioCatalog {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  // With the scripted model, a `[scenario: name]` marker in the prompt picks the scenario when
  // the task names none; a marker naming no scenario is refused like a bad `scenario` field.
  async assertPromptMarker(prompt: string): Promise<void> {
    if (!this.config.SCRIPTED_MODEL_URL) return;
    const marked = scenarioFromPrompt(prompt);
    if (marked !== undefined) await this.assertAvailable(marked, 'prompt');
  }

  // For the dashboard's New task form: the usable scenarios, with what each does.
  async list(): Promise<ScenarioList> {
    if (!this.config.SCRIPTED_MODEL_URL) return { scriptedModel: false, items: [] };
    const listings = await listScenarios(this.config.SCRIPTED_MODEL_SCENARIOS_DIR);
    const items = listings
      .filter((listing) => !listing.error)
      .map(({ name, description }) => ({ name, description }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { scriptedModel: true, items };
  }

  async assertAvailable(scenario: string, field = 'scenario'): Promise<void> {
    if (!this.config.SCRIPTED_MODEL_URL) {
      throw new HangarError(
        'SCENARIO_NOT_AVAILABLE',
        'scenario is only accepted when the scripted model is in use (no real model key is set)',
        {
          field,
        },
      );
    }
    const known = (await listScenarios(this.config.SCRIPTED_MODEL_SCENARIOS_DIR))
      .filter((listing) => !listing.error)
      .map((listing) => listing.name);
    if (!known.includes(scenario)) {
      throw new HangarError(
        'UNKNOWN_SCENARIO',
        `unknown scenario "${scenario}"; known: ${known.join(', ')}`,
        { field },
      );
    }
  }
}
