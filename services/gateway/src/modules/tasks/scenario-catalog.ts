import { Inject, Injectable } from '@nestjs/common';
import { HangarError } from '@hangar/contracts';
import { listScenarios } from '@hangar/agents';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

// Which scripted-model scenarios a task may name: none when a real model is configured.
@Injectable()
export class ScenarioCatalog {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  async assertAvailable(scenario: string): Promise<void> {
    if (!this.config.SCRIPTED_MODEL_URL) {
      throw new HangarError(
        'SCENARIO_NOT_AVAILABLE',
        'scenario is only accepted when the scripted model is in use (no real model key is set)',
        {
          field: 'scenario',
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
        { field: 'scenario' },
      );
    }
  }
}
