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

// Where scenarios are looked for, in order.
export function scenarioDirs(extraDir?: string): { dir: string; source: ScenarioListing['source'] }[] {
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
  // Each directory's files are read at once (one after another, the shipped ~30 files took
  // ~120 trips through libuv's thread pool); the first directory naming a scenario wins.
  const listed = await Promise.all(
    scenarioDirs(extraDir).map(async ({ dir, source }) =>
      Promise.all(
        (await jsonFiles(dir))
          .map((file) => file.slice(0, -'.json'.length))
          .filter(isScenarioName)
          .map((name) => listing(name, path.join(dir, `${name}.json`), source)),
      ),
    ),
  );
  const byName = new Map<string, ScenarioListing>();
  for (const found of listed)
    for (const entry of found) if (entry && !byName.has(entry.name)) byName.set(entry.name, entry);
  return [...byName.values()].sort((left, right) => byCodeUnit(left.name, right.name));
}

// Null when the file is gone meanwhile.
async function listing(
  name: string,
  filePath: string,
  source: ScenarioListing['source'],
): Promise<ScenarioListing | null> {
  try {
    const scenario = await readScenarioFile(name, filePath);
    return scenario ? { name, description: scenario.description, source, path: filePath } : null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { name, description: '', source, path: filePath, error: message };
  }
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
