import type { Prisma } from '../generated/prisma/client';

// A delegating task's children — tasks and workflow runs alike — are counted and recorded under
// one transaction-scoped lock on the parent, so children asked for at the same instant (two tool
// calls, two gateways) cannot pass its fan-out limit together. Answers how many it has.
export async function lockAndCountChildren(
  tx: Prisma.TransactionClient,
  parentTaskId: string,
): Promise<number> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`hangar-children:${parentTaskId}`}))`;
  const [tasks, runs] = await Promise.all([
    tx.task.count({ where: { parentTaskId } }),
    tx.workflowRun.count({ where: { parentTaskId } }),
  ]);
  return tasks + runs;
}

// Who started the parent: a delegated child (task or run) is theirs (docs/governance.md).
export async function parentSubmitter(
  tx: Prisma.TransactionClient,
  parentTaskId: string,
): Promise<{ userId: string | null; tokenId: string | null }> {
  const parent = await tx.task.findUnique({
    where: { id: parentTaskId },
    select: { userId: true, tokenId: true },
  });
  return { userId: parent?.userId ?? null, tokenId: parent?.tokenId ?? null };
}
