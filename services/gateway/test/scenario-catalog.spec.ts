import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GatewayConfigSchema } from '../src/config';
import { ScenarioCatalog } from '../src/modules/tasks/scenario-catalog';

// Which scenarios a task may name, as the scenario files on disk are now: kept between requests,
// and told at once of a file added, removed or broken.
describe(ScenarioCatalog.name, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hangar-scenarios-'));
  const catalog = new ScenarioCatalog(
    GatewayConfigSchema.parse({
      SCRIPTED_MODEL_URL: 'http://127.0.0.1:9',
      SCRIPTED_MODEL_SCENARIOS_DIR: dir,
    }),
  );
  const file = path.join(dir, 'mine.json');
  const scenario = JSON.stringify({ description: 'mine', steps: [{ text: 'hi' }] });

  afterAll(() => {
    catalog.onModuleDestroy();
    rmSync(dir, { recursive: true, force: true });
  });

  // Until the check answers as expected: a watched directory's change arrives as an event.
  const eventually = async (check: () => Promise<unknown>, expected: 'accepted' | 'refused') => {
    const deadline = Date.now() + 1000;
    for (;;) {
      const outcome = await check().then(
        () => 'accepted',
        () => 'refused',
      );
      if (outcome === expected || Date.now() > deadline) return outcome;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it('should accept a shipped scenario and refuse one no file defines, naming the field', async () => {
    await expect(catalog.assertAvailable('reply')).resolves.toBeUndefined();
    await expect(catalog.assertAvailable('mine', 'prompt')).rejects.toMatchObject({
      code: 'UNKNOWN_SCENARIO',
      details: { field: 'prompt' },
    });
  });

  it('should find a file added at once, and refuse it within a second once it is removed or broken', async () => {
    writeFileSync(file, scenario);
    await expect(catalog.assertAvailable('mine')).resolves.toBeUndefined();
    // (A listing otherwise answers for 5 s: refused sooner, the removal was seen as it happened.)
    unlinkSync(file);
    expect(await eventually(() => catalog.assertAvailable('mine'), 'refused')).toBe('refused');
    writeFileSync(file, scenario);
    expect(await eventually(() => catalog.assertAvailable('mine'), 'accepted')).toBe('accepted');
    writeFileSync(file, '{ not json');
    expect(await eventually(() => catalog.assertAvailable('mine'), 'refused')).toBe('refused');
    await expect(catalog.assertAvailable('reply')).resolves.toBeUndefined();
  });
});
