import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { byCodeUnit, HangarError, ScenarioNameSchema } from '@hangar/contracts';
import { z } from 'zod';
import { type Scenario, ScenarioSchema } from './scenario.schema';

// src/scripted-model and dist/scripted-model both sit two levels below the package root,
// so the shipped scenarios resolve the same from source (tests) and from the build.
export const BUILTIN_SCENARIOS_DIR = path.resolve(__dirname, '..', '..', 'scenarios');

export class UnknownScenario extends HangarError {
  constructor(
    readonly scenario: string,
    readonly searched: readonly string[],
  ) {
    super('UNKNOWN_SCENARIO', `scenario "${scenario}" does not exist (looked in ${searched.join(', ')})`, {
      scenario,
    });
  }
}

export class InvalidScenario extends Error {
  constructor(
    readonly scenario: string,
    readonly filePath: string,
    readonly detail: string,
  ) {
    super(`scenario "${scenario}" (${filePath}) is invalid: ${detail}`);
    this.name = 'InvalidScenario';
  }
}

export interface ScenarioListing {
  name: string;
  description: string;
  source: 'builtin' | 'extra';
  path: string;
  // Set when the file does not parse; the listing keeps it so a user sees why it is unusable.
  error?: string;
}

function scenarioDirs(extraDir?: string): { dir: string; source: ScenarioListing['source'] }[] {
  // The extra directory comes first: a user's scenario may shadow a shipped one.
  const dirs: { dir: string; source: ScenarioListing['source'] }[] = [];
  if (extraDir) dirs.push({ dir: path.resolve(extraDir), source: 'extra' });
  dirs.push({ dir: BUILTIN_SCENARIOS_DIR, source: 'builtin' });
  return dirs;
}

export function isScenarioName(name: string): boolean {
  return ScenarioNameSchema.safeParse(name).success;
}

// Resolves to null when the file does not exist, so the next directory can be tried.
async function readScenarioFile(name: string, filePath: string): Promise<Scenario | null> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return null;
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidScenario(name, filePath, error instanceof Error ? error.message : String(error));
  }
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidScenario(name, filePath, z.prettifyError(parsed.error));
  return { ...parsed.data, name, path: filePath };
}

export async function loadScenario(name: string, extraDir?: string): Promise<Scenario> {
  const dirs = scenarioDirs(extraDir).map(({ dir }) => dir);
  if (!isScenarioName(name)) throw new UnknownScenario(name, dirs);
  for (const dir of dirs) {
    const scenario = await readScenarioFile(name, path.join(dir, `${name}.json`));
    if (scenario) return scenario;
  }
  throw new UnknownScenario(name, dirs);
}

export async function listScenarios(extraDir?: string): Promise<ScenarioListing[]> {
  const byName = new Map<string, ScenarioListing>();
  for (const { dir, source } of scenarioDirs(extraDir)) {
    for (const file of await jsonFiles(dir)) {
      const name = file.slice(0, -'.json'.length);
      if (!isScenarioName(name) || byName.has(name)) continue;
      const filePath = path.join(dir, file);
      try {
        const scenario = await readScenarioFile(name, filePath);
        if (scenario) byName.set(name, { name, description: scenario.description, source, path: filePath });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        byName.set(name, { name, description: '', source, path: filePath, error: message });
      }
    }
  }
  return [...byName.values()].sort((left, right) => byCodeUnit(left.name, right.name));
}

async function jsonFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((file) => file.endsWith('.json'));
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return [];
    throw error;
  }
}

// Structural, not instanceof: errors from node:fs may come from another realm (Jest's vm).
function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return typeof error === 'object' && error !== null && 'code' in error;
}
