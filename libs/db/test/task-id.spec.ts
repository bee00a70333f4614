import { newTaskId, timeOrderedId } from '../src/task-id';

describe('ids Hangar makes', () => {
  it('makes task ids that fit a Kubernetes name, ordered by time and each its own', () => {
    // 512 ids' randomness per draw from the system's generator: this crosses several.
    const ids = Array.from({ length: 2000 }, () => newTaskId());
    for (const id of ids) expect(id).toMatch(/^c[0-9a-z]{8}[0-9a-f]{16}$/);
    const later = timeOrderedId('a');
    expect(later.slice(1, 9) >= ids[0]!.slice(1, 9)).toBe(true);
    // No two ids share their random part, across draws included.
    const randomParts = new Set(ids.map((id) => id.slice(9)));
    expect(randomParts.size).toBe(ids.length);
  });
});
