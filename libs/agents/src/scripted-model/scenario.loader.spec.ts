import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HangarError } from '@hangar/contracts';
import {
  BUILTIN_SCENARIOS_DIR,
  InvalidScenario,
  listScenarios,
  loadScenario,
  UnknownScenario,
} from './scenario.loader';

const REQUIRED = [
  'reply',
  'write-file',
  'bash',
  'long-stream',
  'rate-limited',
  'slow',
  'fail',
  'edit-file',
  'tool-error',
  'remember',
  'big-output',
  'codex-shell',
  'gemini-shell',
];

describe('scenario loader', () => {
  let extraDir: string;

  beforeAll(() => {
    extraDir = mkdtempSync(path.join(tmpdir(), 'hangar-scenarios-'));
    writeFileSync(
      path.join(extraDir, 'reply.json'),
      JSON.stringify({ description: 'mine', steps: [{ text: 'mine' }] }),
    );
    writeFileSync(path.join(extraDir, 'not json.json'), '{');
    writeFileSync(path.join(extraDir, 'bad-json.json'), '{');
    writeFileSync(path.join(extraDir, 'empty-step.json'), JSON.stringify({ steps: [{}] }));
    writeFileSync(
      path.join(extraDir, 'with-cases.json'),
      JSON.stringify({
        steps: [{ text: 'other' }],
        cases: [{ promptIncludes: 'Review', steps: [{ text: 'r' }] }],
      }),
    );
    writeFileSync(
      path.join(extraDir, 'bad-case.json'),
      JSON.stringify({ steps: [{ text: 'other' }], cases: [{ promptIncludes: '', steps: [] }] }),
    );
  });

  afterAll(() => rmSync(extraDir, { recursive: true, force: true }));

  it('should ship the required scenarios, all valid, next to the package root', async () => {
    expect(BUILTIN_SCENARIOS_DIR).toBe(path.resolve(__dirname, '..', '..', 'scenarios'));
    const listed = await listScenarios();
    expect(listed.map((scenario) => scenario.name)).toEqual(expect.arrayContaining(REQUIRED));
    // `auto` is a route, never a scenario: a file of that name could not be reached.
    expect(listed.map((scenario) => scenario.name)).not.toContain('auto');
    for (const scenario of listed) {
      expect(scenario.source).toBe('builtin');
      expect(scenario.error).toBeUndefined();
      expect(scenario.description).not.toBe('');
    }
  });

  it('should let the extra directory shadow a shipped scenario and list broken files with their error', async () => {
    const listed = await listScenarios(extraDir);
    expect(listed.find((scenario) => scenario.name === 'reply')).toMatchObject({
      source: 'extra',
      description: 'mine',
    });
    expect(listed.find((scenario) => scenario.name === 'bad-json')?.error).toContain('bad-json.json');
    expect(listed.find((scenario) => scenario.name === 'empty-step')?.error).toContain('a step needs');
    expect(listed.map((scenario) => scenario.name)).not.toContain('not json');
    expect(await loadScenario('reply', extraDir)).toMatchObject({ name: 'reply', steps: [{ text: 'mine' }] });
    expect(await loadScenario('write-file', extraDir)).toMatchObject({ name: 'write-file' });
  });

  it('should apply defaults when a step leaves them out', async () => {
    const scenario = await loadScenario('reply');
    expect(scenario.steps[0]).toEqual({
      text: 'Hello from the Hangar scripted model.',
      errors: [],
      delayMs: 0,
      chunkSize: 64,
      chunkDelayMs: 0,
    });
  });

  it('should load cases with their steps defaulted, and refuse a case without text or steps', async () => {
    const scenario = await loadScenario('with-cases', extraDir);
    expect(scenario.cases).toEqual([
      {
        promptIncludes: 'Review',
        steps: [{ text: 'r', errors: [], delayMs: 0, chunkSize: 64, chunkDelayMs: 0 }],
      },
    ]);
    expect((await loadScenario('reply')).cases).toBeUndefined();
    const error: unknown = await loadScenario('bad-case', extraDir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidScenario);
    expect((error as InvalidScenario).detail).toMatch(/cases\[0\]\.promptIncludes/);
    expect((error as InvalidScenario).detail).toMatch(/cases\[0\]\.steps/);
  });

  it('should throw a coded UnknownScenario when no directory has the scenario', async () => {
    const error: unknown = await loadScenario('no-such-thing', extraDir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnknownScenario);
    expect(error).toBeInstanceOf(HangarError);
    expect((error as UnknownScenario).code).toBe('UNKNOWN_SCENARIO');
    await expect(loadScenario('../etc/passwd')).rejects.toBeInstanceOf(UnknownScenario);
  });

  it('should throw InvalidScenario naming the file when a scenario does not parse', async () => {
    await expect(loadScenario('bad-json', extraDir)).rejects.toBeInstanceOf(InvalidScenario);
    await expect(loadScenario('empty-step', extraDir)).rejects.toThrow(/empty-step\.json/);
  });
});
