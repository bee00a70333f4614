import { DelegationSettingsSchema, nestTaskTree, TaskTreeNodeSchema } from './delegation';
import type { Task } from './task';

function task(id: string, parentTaskId: string | null, createdAt: string): Task {
  return { id, parentTaskId, rootTaskId: 'root', depth: 0, createdAt } as Task;
}

describe(nestTaskTree.name, () => {
  it('should nest every task under its parent, children oldest first', () => {
    const tree = nestTaskTree('root', [
      task('b', 'root', '2026-12-06T10:00:02.000Z'),
      task('root', null, '2026-12-06T10:00:00.000Z'),
      task('b1', 'b', '2026-12-06T10:00:03.000Z'),
      task('a', 'root', '2026-12-06T10:00:01.000Z'),
    ]);
    const shape = (node: { id: string; children: unknown[] }): unknown => ({
      id: node.id,
      children: (node.children as { id: string; children: unknown[] }[]).map(shape),
    });
    expect(shape(tree!)).toEqual({
      id: 'root',
      children: [
        { id: 'a', children: [] },
        { id: 'b', children: [{ id: 'b1', children: [] }] },
      ],
    });
  });

  it('should answer undefined when the root is not among the tasks', () => {
    expect(nestTaskTree('gone', [task('a', 'gone', '2026-12-06T10:00:01.000Z')])).toBeUndefined();
  });
});

describe('DelegationSettingsSchema', () => {
  it('should default to off, with bounded depth and fan-out', () => {
    expect(DelegationSettingsSchema.parse({})).toEqual({
      enabled: false,
      profiles: [],
      maxDepth: 1,
      maxChildren: 5,
    });
    expect(DelegationSettingsSchema.safeParse({ maxDepth: 0 }).success).toBe(false);
    expect(DelegationSettingsSchema.safeParse({ maxChildren: 1000 }).success).toBe(false);
  });
});

describe('TaskTreeNodeSchema', () => {
  it('should be a JSON schema that refers to itself for children', () => {
    expect(() => TaskTreeNodeSchema.toJSONSchema()).not.toThrow();
  });
});
