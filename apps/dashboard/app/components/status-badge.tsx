import type { TaskStatus } from '@hangar/contracts';

export function StatusBadge({ status }: { status: TaskStatus }) {
  return <span className={`badge ${status}`}>{status}</span>;
}
