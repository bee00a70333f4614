import { ROLES } from '@hangar/contracts';

// Small pieces every page uses the same way.

// An error a person should read, announced to screen readers.
export function ErrorNote({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p role="alert" className="error">
      {message}
    </p>
  );
}

export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col">
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}

// The options of a role picker, lowest first.
export function RoleOptions() {
  return ROLES.map((role) => (
    <option key={role} value={role}>
      {role}
    </option>
  ));
}

// Why a task waits (docs/governance.md): QUEUED, its provider's quota spent; RUNNING, its agent's
// tool call waiting for a person's approval.
export function WaitingNote({
  waiting,
}: {
  waiting: { reason: 'provider-quota' | 'approval'; until: string | null } | null;
}) {
  if (!waiting) return null;
  const until = waiting.until ? ` until ${new Date(waiting.until).toLocaleTimeString()}` : '';
  if (waiting.reason === 'approval')
    return (
      <p className="muted" data-testid="task-waiting">
        Waiting for approval{until}: a tool call of the agent needs an operator&apos;s answer (below); no
        answer by then denies it.
      </p>
    );
  return (
    <p className="muted" data-testid="task-waiting">
      Waiting for provider quota{until}: every credential of its provider is rate limited; it starts when one
      is back.
    </p>
  );
}
