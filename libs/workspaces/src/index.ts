export * from './workspace.errors';
export {
  parseRepositorySpec,
  validateRef,
  repositorySource,
  isFullCommitId,
  MAX_REPOSITORY_LENGTH,
  MAX_REF_LENGTH,
  type RepositorySpec,
  type RepositoryInput,
  type RepositoryPolicy,
} from './repository-spec.parser';
export { type GitCredentials, DEFAULT_HTTPS_USERNAME, HANGAR_IDENTITY } from './git-environment.builder';
export {
  gitHostPolicy,
  parseGitHost,
  repositoryEndpoint,
  assertRepositoryHostAllowed,
  DEFAULT_GIT_PORTS,
  type GitHostPolicy,
  type GitHostEntry,
  type GitHostCredential,
  type GitEndpoint,
  type InstallationGitHosts,
} from './git-host.policy';
export {
  type GitOptions,
  type GitSandbox,
  type GitCommandLine,
  DEFAULT_GIT_TIMEOUT_MS,
  GitCommandFailed,
} from './git.runner';
export {
  prepareWorkspace,
  moveWorkspace,
  renameWorkspaceBranch,
  currentCommit,
  moveRepositoryInside,
  removeWorkspace,
  sweepWorkspaces,
  BASE_REF,
  type PrepareWorkspaceInput,
  type Workspace,
  type SweepWorkspacesInput,
  type SweepResult,
} from './workspace.lifecycle';
export {
  collectDiff,
  DEFAULT_MAX_DIFF_BYTES,
  noChanges,
  type CollectDiffOptions,
  type WorkspaceDiff,
  type FileChange,
  type FileChangeStatus,
} from './workspace-diff.collector';
export { workspaceFingerprint } from './workspace-fingerprint';
export { hasRepository } from './workspace-directory.guard';
export { pushBranch, type PushBranchOptions, type PushResult } from './branch.pusher';
export { runInProcessGroup, type GroupExit } from './process-group';
