import { runGit, type GitContext } from './git.runner';
import { WorkspaceError } from './workspace.errors';

// The agent can edit the workspace's .git/config. Before credentials are handed to git, only keys
// that cannot redirect the push, run a program or talk to another host are accepted
// (url.*.insteadOf, remote.*.pushurl, http.*, credential.*, core.sshCommand, include.* … are not).
const SAFE_KEYS: readonly RegExp[] = [
  /^core\.(repositoryformatversion|filemode|bare|logallrefupdates|ignorecase|precomposeunicode|symlinks|autocrlf|eol|safecrlf|quotepath|whitespace|abbrev|editor|pager|excludesfile|attributesfile|compression|loosecompression|checkstat|trustctime|untrackedcache|splitindex|sparsecheckout|sparsecheckoutcone)$/,
  /^(user|author|committer)\.(name|email)$/,
  // Remote names that cannot be mistaken for a URL or a path.
  /^remote\.[A-Za-z0-9_-][A-Za-z0-9._-]*\.(url|fetch|tagopt|mirror|prune|skipdefaultupdate|skipfetchall)$/,
  /^branch\.[^\n]+\.(remote|merge|rebase|description)$/,
  /^extensions\.(objectformat|worktreeconfig)$/,
  /^(advice|color|column|status|log|diff|merge|pull|rebase|init|help|i18n|blame|grep|fetch|gc|index|pack|feature|format|am|apply|checkout|clean|commit|interactive|pretty|stash|tag)\.[a-z0-9-]+$/,
];

export async function assertSafeConfig(context: GitContext, env: Record<string, string>): Promise<void> {
  const { stdout } = await runGit(context, {
    args: ['config', '--list', '--show-scope', '--name-only', '-z'],
    env,
  });
  const fields = stdout.split('\0');
  const unsafe = new Set<string>();
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const scope = fields[index];
    const name = fields[index + 1] ?? '';
    // "command" is what this library sets through GIT_CONFIG_COUNT.
    if (scope === 'command') continue;
    if (!SAFE_KEYS.some((pattern) => pattern.test(name))) unsafe.add(name);
  }
  if (unsafe.size > 0) {
    const names = [...unsafe].slice(0, 5).join(', ');
    throw new WorkspaceError(
      'WORKSPACE_UNSAFE',
      `the workspace's git configuration sets ${names}, which could send the push or the credentials elsewhere or run a program; refusing to push`,
      undefined,
      { keys: [...unsafe] },
    );
  }
}
