import { OnDemand } from '../src/periodic';

// Work asked for while it runs (a runner's registration, a warm pool's refresh) runs once more
// after, never twice at once, and the last ask is served by a run that began after it.
describe('OnDemand', () => {
  it('runs once more after a run during which it was asked, however often, never two at once', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const work = new OnDemand('test work', async () => {
      running += 1;
      most = Math.max(most, running);
      started.push(Date.now());
      await new Promise<void>((resolve) => releases.push(resolve));
      running -= 1;
    });
    work.run();
    work.run();
    work.run();
    expect(releases).toHaveLength(1);
    releases[0]!();
    // The second run starts once the first ended.
    while (releases.length < 2) await new Promise((resolve) => setImmediate(resolve));
    releases[1]!();
    await work.idle();
    expect(started).toHaveLength(2);
    expect(most).toBe(1);
  });

  it('answers each ask once a run that began after it has ended', async () => {
    const seen: number[] = [];
    const releases: (() => void)[] = [];
    let value = 0;
    const work = new OnDemand('asked work', async () => {
      const read = value;
      await new Promise<void>((resolve) => releases.push(resolve));
      seen.push(read);
    });
    const first = work.ask();
    value = 1; // after the first run read it
    const second = work.ask();
    const third = work.ask();
    releases[0]!();
    await first;
    expect(seen).toEqual([0]);
    while (releases.length < 2) await new Promise((resolve) => setImmediate(resolve));
    releases[1]!();
    expect(work.busy).toBe(true);
    await Promise.all([second, third]);
    // One more run served both later asks, and it read what was there when they asked.
    expect(seen).toEqual([0, 1]);
    // Answered, nothing more under way.
    expect(work.busy).toBe(false);
  });

  it('goes on after a run that failed', async () => {
    let calls = 0;
    const work = new OnDemand('failing work', async () => {
      calls += 1;
      if (calls === 1) throw new Error('the first run fails');
    });
    work.run();
    await work.idle();
    work.run();
    await work.idle();
    expect(calls).toBe(2);
  });
});
