// One statement for what many requests ask at once (group commit for writes: a task's creation,
// an audit entry; one lookup for reads: an API token's grant): what is submitted while the
// previous batch's statement runs goes into the next batch, which runs as soon as that one ends —
// one round trip (and one commit) for many requests, and no request waits longer than one
// statement for its turn. A lone request's statement runs at once, alone. Each request still
// resolves only once its own row is written or read (or rejects with its own error).
//
// Not DataLoader: it gathers what is asked within one tick, and requests arriving over a
// statement's few milliseconds (the busy case) would each start a statement of their own.
export class StatementBatcher<I, O> {
  private waiting: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  private running = false;

  // `run` answers one result per item, in order: a value, or the item's own Error. When it
  // throws, each item of the batch is run alone (`run([item])`), so that one bad item (a unique
  // violation, say) fails its own request and no other.
  constructor(
    private readonly run: (items: I[]) => Promise<(O | Error)[]>,
    private readonly maxBatch = 200,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.maxBatch);
        const together = await this.settle(batch);
        if (!together) await Promise.all(batch.map((entry) => this.settle([entry])));
      }
    } finally {
      this.running = false;
    }
  }

  // Settles each entry with its result. False (settling none) when a run of several throws; a run
  // of one rejects its entry with the error.
  private async settle(batch: typeof this.waiting): Promise<boolean> {
    let results: (O | Error)[];
    try {
      results = await this.run(batch.map((entry) => entry.item));
    } catch (error) {
      if (batch.length > 1) return false;
      batch[0]?.reject(error);
      return true;
    }
    batch.forEach((entry, index) => {
      const result = results[index];
      if (result instanceof Error) entry.reject(result);
      else if (index >= results.length)
        entry.reject(new Error(`a batched statement answered ${results.length} of ${batch.length} items`));
      else entry.resolve(result as O);
    });
    return true;
  }
}
