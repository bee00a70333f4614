// Coded like @hangar/contracts' HangarError (code, message, details) so a transport mapper can
// turn them into responses; `field` names the request field a user has to fix, when there is one.
export const WORKSPACE_ERROR_CODES = [
  // repository or ref refused by parseRepositorySpec (field says which): a 400
  'INVALID_REPOSITORY',
  // the ref names no branch, tag or commit of the repository
  'REF_NOT_FOUND',
  // clone or fetch failed: unreachable, no access, not a repository
  'REPOSITORY_UNAVAILABLE',
  // push failed: rejected, unreachable, no access
  'PUSH_FAILED',
  // the workspace cannot be used safely: escapes its root, tampered git config, not a workspace
  'WORKSPACE_UNSAFE',
  // the workspace directory exists and is not one this library prepared
  'WORKSPACE_EXISTS',
  // any other git failure, including timeouts (details.timedOut)
  'GIT_FAILED',
] as const;
export type WorkspaceErrorCode = (typeof WORKSPACE_ERROR_CODES)[number];

export type RepositoryField = 'repository' | 'ref';

export class WorkspaceError extends Error {
  constructor(
    readonly code: WorkspaceErrorCode,
    message: string,
    readonly field?: RepositoryField,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'WorkspaceError';
  }
}

export class InvalidRepositorySpec extends WorkspaceError {
  constructor(field: RepositoryField, message: string) {
    super('INVALID_REPOSITORY', message, field);
    this.name = 'InvalidRepositorySpec';
  }
}
