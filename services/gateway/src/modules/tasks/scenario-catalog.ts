import { watch, type FSWatcher } from 'node:fs';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { byCodeUnit, HangarError, type ScenarioList } from '@hangar/contracts';
import { listScenarios, scenarioDirs, scenarioFromPrompt } from '@hangar/agents';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

// How long a listing of the scenario files answers for a name it holds when its directories
// cannot be watched (one that does not exist, say). A name it lacks is looked for on disk again at
// once (a scenario file just added is found).
const KNOWN_FOR_MS = 5000;

// Which scripted-model scenarios a task may name: none when a real model is configured.
@Injectable()
export class ScenarioCatalog implements OnModuleDestroy {
  // The names of the usable scenarios, as last read: every task that names a scenario is checked
  // against them (reading and parsing each file on every request was a fifth of the gateway's
  // time accepting tasks, docs/benchmarks.md).
  private known: { at: number; names: Promise<string[]> } | undefined;
  // The scenario directories, watched once first listed: a listing holds until a file in them
  // changes, not only for KNOWN_FOR_MS (read again after every idle 5 s, the ~30 files were a
  // lone task's slowest step at the gateway, docs/benchmarks.md). Null: not watched.
  private watchers: FSWatcher[] | null | undefined;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  onModuleDestroy(): void {
    for (const watcher of this.watchers ?? []) watcher.close();
    this.watchers = null;
  }

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
      .sort((a, b) => byCodeUnit(a.name, b.name));
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
    let known = await this.names(false);
    if (!known.includes(scenario)) known = await this.names(true);
    if (!known.includes(scenario)) {
      throw new HangarError(
        'UNKNOWN_SCENARIO',
        `unknown scenario "${scenario}"; known: ${known.join(', ')}`,
        { field },
      );
    }
  }

  private names(fresh: boolean): Promise<string[]> {
    if (this.watchers === undefined) this.watch();
    if (!fresh && this.known && (this.watchers || Date.now() - this.known.at < KNOWN_FOR_MS))
      return this.known.names;
    const names = listScenarios(this.config.SCRIPTED_MODEL_SCENARIOS_DIR).then((listings) =>
      listings.filter((listing) => !listing.error).map((listing) => listing.name),
    );
    this.known = { at: Date.now(), names };
    // A listing that failed is not kept.
    names.catch(() => {
      if (this.known?.names === names) this.known = undefined;
    });
    return names;
  }

  // Any change in a scenario directory drops the listing; a directory that cannot be watched
  // (or stops being watchable) leaves the listing to its age.
  private watch(): void {
    const forget = () => (this.known = undefined);
    const watchers: FSWatcher[] = [];
    try {
      for (const { dir } of scenarioDirs(this.config.SCRIPTED_MODEL_SCENARIOS_DIR))
        watchers.push(
          watch(dir, { persistent: false }, forget).on('error', () => {
            for (const watcher of watchers) watcher.close();
            if (this.watchers === watchers) this.watchers = null;
            forget();
          }),
        );
      this.watchers = watchers;
    } catch {
      for (const watcher of watchers) watcher.close();
      this.watchers = null;
    }
  }
}
