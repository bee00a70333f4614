// Domain errors are coded; each transport (HTTP, Redis RPC, Socket.IO) maps codes to its own
// shape in one exhaustive mapper. Services throw these, never transport-specific exceptions.
export const ERROR_CODES = [
  'TASK_NOT_FOUND',
  'INVALID_TRANSITION',
  'SCENARIO_NOT_AVAILABLE',
  'UNKNOWN_SCENARIO',
  'UNKNOWN_PROFILE',
  // No known runner offers what a task requires (docs/routing.md).
  'UNROUTABLE',
  'PROFILE_NOT_FOUND',
  'PROFILE_EXISTS',
  'PROFILE_IN_USE',
  'INVALID_REPOSITORY',
  'CONVERSATION_NOT_FOUND',
  'CONVERSATION_BUSY',
  'DIFF_NOT_FOUND',
  'INVALID_CURSOR',
  'IDEMPOTENCY_KEY_REUSED',
  'INVALID_IDEMPOTENCY_KEY',
  'IDEMPOTENCY_KEY_IN_USE',
  'ORCHESTRATOR_UNAVAILABLE',
  'UNAUTHENTICATED',
  'INVALID_CREDENTIALS',
  'FORBIDDEN',
  'PROJECT_REQUIRED',
  'PROJECT_NOT_FOUND',
  'PROJECT_EXISTS',
  'USER_NOT_FOUND',
  'USER_EXISTS',
  'TOKEN_NOT_FOUND',
  'WEBHOOK_NOT_FOUND',
  'DELIVERY_NOT_FOUND',
  'INVALID_TEMPLATE',
  'INVALID_SIGNATURE',
  'INVALID_WEBHOOK_BODY',
  'INVALID_COMMAND',
  'TOO_MANY_ATTEMPTS',
  'WORKFLOW_NOT_FOUND',
  'WORKFLOW_EXISTS',
  'WORKFLOW_RUN_NOT_FOUND',
  'BUDGET_NOT_FOUND',
  'ALERT_RULE_NOT_FOUND',
  'ALERT_TARGET_NOT_FOUND',
  'ALERT_SILENCE_NOT_FOUND',
  'APPROVAL_NOT_FOUND',
  // An approval already answered, or past its deadline: details.status says which.
  'APPROVAL_CLOSED',
  // A definition or run request only the whole can judge: details.errors names each path.
  'INVALID_WORKFLOW',
  // A field a schema cannot judge alone (a webhook's apiUrl, once resolved): the same code, and
  // the same answer naming the field, as a schema's own refusal.
  'VALIDATION_FAILED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class HangarError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HangarError';
  }
}

export class TaskNotFound extends HangarError {
  constructor(taskId: string) {
    super('TASK_NOT_FOUND', `task ${taskId} does not exist`, { taskId });
  }
}

export class InvalidTransition extends HangarError {
  constructor(taskId: string, from: string, to: string) {
    super('INVALID_TRANSITION', `task ${taskId} cannot go from ${from} to ${to}`, { taskId, from, to });
  }
}

export function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
