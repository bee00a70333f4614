import { StatementBatcher } from '../src/statement-batcher';

// Group commit: what is submitted while a write runs is written together next, each request
// answered with its own result. The writes here are plain functions that record their batches
// (the batcher's input, not Hangar's code); the repositories that use it are tested on
// PostgreSQL (audit.repository.spec.ts, task.repository.spec.ts).
describe(StatementBatcher.name, () => {
  // A write whose batches are recorded and that ends only when the test lets it.
  function gatedWrite(answer: (item: string) => string | Error = (item) => item.toUpperCase()) {
    const batches: string[][] = [];
    const gates: (() => void)[] = [];
    let failNext = false;
    const write = async (items: string[]) => {
      batches.push(items);
      const failing = failNext && items.length > 1;
      await new Promise<void>((resolve) => gates.push(resolve));
      if (failing) {
        failNext = false;
        throw new Error('the statement failed');
      }
      if (items.includes('throws')) throw new Error('throws alone');
      return items.map(answer);
    };
    const openNext = async () => {
      while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
      gates.shift()!();
    };
    return { write, batches, openNext, failNextBatch: () => (failNext = true) };
  }

  it('writes a lone item at once, alone', async () => {
    const { write, batches, openNext } = gatedWrite();
    const batcher = new StatementBatcher(write);
    const written = batcher.submit('a');
    expect(batches).toEqual([['a']]);
    await openNext();
    await expect(written).resolves.toBe('A');
  });

  it('writes what arrives during a write together next, in order, each answered with its own result', async () => {
    const { write, batches, openNext } = gatedWrite();
    const batcher = new StatementBatcher(write);
    const first = batcher.submit('a');
    const rest = ['b', 'c', 'd'].map((item) => batcher.submit(item));
    expect(batches).toEqual([['a']]);
    await openNext();
    await expect(first).resolves.toBe('A');
    await openNext();
    await expect(Promise.all(rest)).resolves.toEqual(['B', 'C', 'D']);
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('rejects only the request whose item was answered with an error', async () => {
    const { write, openNext } = gatedWrite((item) => (item === 'bad' ? new Error('bad item') : item));
    const batcher = new StatementBatcher(write);
    const first = batcher.submit('a');
    const [good, bad, other] = ['b', 'bad', 'c'].map((item) => batcher.submit(item));
    await openNext();
    await openNext();
    await expect(first).resolves.toBe('a');
    await expect(good).resolves.toBe('b');
    await expect(bad).rejects.toThrow('bad item');
    await expect(other).resolves.toBe('c');
  });

  it('writes each item of a batch alone when the batch fails, so that one bad item fails alone', async () => {
    const { write, batches, openNext, failNextBatch } = gatedWrite();
    const batcher = new StatementBatcher(write);
    const first = batcher.submit('a');
    failNextBatch();
    const [b, throws, c] = ['b', 'throws', 'c'].map((item) => batcher.submit(item));
    await openNext(); // a
    await openNext(); // b, throws, c together: fails
    for (let alone = 0; alone < 3; alone += 1) await openNext();
    await expect(first).resolves.toBe('A');
    await expect(b).resolves.toBe('B');
    await expect(throws).rejects.toThrow('throws alone');
    await expect(c).resolves.toBe('C');
    expect(batches).toEqual([['a'], ['b', 'throws', 'c'], ['b'], ['throws'], ['c']]);
  });

  it('writes at most maxBatch items at once and takes the rest next', async () => {
    const { write, batches, openNext } = gatedWrite();
    const batcher = new StatementBatcher(write, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((item) => batcher.submit(item));
    for (let write = 0; write < 3; write += 1) await openNext();
    await expect(Promise.all(all)).resolves.toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(batches).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('goes on writing after a failed write: a later request is written', async () => {
    const { write, openNext } = gatedWrite();
    const batcher = new StatementBatcher(write);
    const failed = batcher.submit('throws');
    await openNext();
    await expect(failed).rejects.toThrow('throws alone');
    const later = batcher.submit('z');
    await openNext();
    await expect(later).resolves.toBe('Z');
  });
});
