import { tmpdir } from 'node:os';
import { runInProcessGroup } from './process-group';
import { WorkspaceError } from './workspace.errors';

export interface GitOptions {
  // Per git command; a network operation that hangs is killed after this.
  timeoutMs?: number;
  // HOME (and XDG_CONFIG_HOME) for git. Default /dev/null: nothing under it can exist, so no
  // ~/.gitconfig, XDG ignore/attributes file or ~/.netrc is ever read.
  homeDir?: string;
  // Where the short-lived credential helper script goes; it must allow executing files.
  tempDir?: string;
  gitBinary?: string;
  // Git on a workspace an agent has worked in runs inside a sandbox: the agent could have left
  // it configuration (filter drivers, a .git file or alternates pointing at another repository)
  // that runs programs or reads files as whoever runs git.
  sandbox?: GitSandbox;
}

export interface GitCommandLine {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface GitSandbox {
  // Where the workspace appears inside the sandbox.
  workspaceSeenAs: string;
  // Where a repository kept beside the workspace appears inside the sandbox.
  gitDirSeenAs: string;
  // The command as it runs in a sandbox holding only this workspace (and its repository beside
  // it, when given), with no network.
  wrap(command: GitCommandLine, workspace: string, gitDir?: string): GitCommandLine;
}

export interface GitContext {
  binary: string;
  timeoutMs: number;
  home: string;
  tempDir: string;
  sandbox?: GitSandbox;
  // The workspace the commands of this context run on, inside the sandbox, and its repository
  // when kept beside it.
  isolatedIn?: string;
  isolatedGitDir?: string;
}

export const DEFAULT_GIT_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export function resolveGitContext(options: GitOptions = {}): GitContext {
  return {
    binary: options.gitBinary ?? 'git',
    timeoutMs: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
    home: options.homeDir ?? '/dev/null',
    tempDir: options.tempDir ?? tmpdir(),
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
  };
}

export interface GitCommand {
  args: string[];
  // A POSIX shell script run instead of one git command (`args` are its $1…, the git binary is
  // $GIT): several steps in one process — and one sandbox — rather than one each.
  script?: string;
  env: Record<string, string>;
  cwd?: string;
  // Secrets to blank out of anything reported.
  secrets?: string[];
  // stdout beyond this many bytes is cut off (at a line end with allowTruncation, else a failure).
  maxOutputBytes?: number;
  allowTruncation?: boolean;
}

export interface GitResult {
  stdout: string;
  truncated: boolean;
}

export class GitCommandFailed extends WorkspaceError {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly exitCode: number | null,
    readonly timedOut: boolean,
  ) {
    super(
      'GIT_FAILED',
      timedOut ? `git ${command} timed out` : `git ${command} failed: ${stderr || `exit code ${exitCode}`}`,
      undefined,
      { command, exitCode, timedOut },
    );
    this.name = 'GitCommandFailed';
  }
}

const MAX_STDERR_BYTES = 64 * 1024;

// In its own process group (runInProcessGroup), so a timeout also ends git's helpers
// (remote-https, ssh).
export async function runGit(context: GitContext, command: GitCommand): Promise<GitResult> {
  const maxBytes = command.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const secrets = command.secrets ?? [];
  const name = command.script === undefined ? (command.args[0] ?? 'git') : 'script';
  const run =
    command.script === undefined
      ? { command: context.binary, args: command.args, env: command.env }
      : {
          command: '/bin/sh',
          args: ['-c', command.script, 'hangar-git', ...command.args],
          env: { ...command.env, GIT: context.binary },
        };
  const line =
    context.sandbox && context.isolatedIn !== undefined
      ? context.sandbox.wrap(run, context.isolatedIn, context.isolatedGitDir)
      : run;
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let stderr = Buffer.alloc(0);
  let overflow = false;
  const exit = await runInProcessGroup(line, {
    ...(command.cwd !== undefined ? { cwd: command.cwd } : {}),
    timeoutMs: context.timeoutMs,
    onStdout: (chunk, kill) => {
      if (overflow) return;
      const room = maxBytes - stdoutBytes;
      if (chunk.length > room) {
        stdout.push(chunk.subarray(0, room));
        stdoutBytes = maxBytes;
        overflow = true;
        kill();
        return;
      }
      stdout.push(chunk);
      stdoutBytes += chunk.length;
    },
    onStderr: (chunk) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > MAX_STDERR_BYTES) stderr = stderr.subarray(stderr.length - MAX_STDERR_BYTES);
    },
  });
  if (exit.startError)
    throw new GitCommandFailed(
      name,
      `cannot run ${context.binary} (${exit.startError.code ?? exit.startError.message})`,
      null,
      false,
    );
  const output = Buffer.concat(stdout);
  // Cut at the last whole line: no half line, no half character.
  if (overflow && command.allowTruncation && !exit.timedOut)
    return { stdout: output.subarray(0, output.lastIndexOf(0x0a) + 1).toString('utf8'), truncated: true };
  if (exit.exitCode === 0 && !overflow && !exit.timedOut)
    return { stdout: output.toString('utf8'), truncated: false };
  const detail = overflow ? 'output too large' : stderrTail(stderr.toString('utf8'), secrets);
  throw new GitCommandFailed(name, detail, exit.exitCode, exit.timedOut);
}

// The last lines git printed (the reason), without hints, secrets or URL credentials.
export function stderrTail(stderr: string, secrets: readonly string[]): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('hint:'));
  const tail = lines.slice(-3).join('; ');
  const scrubbed = scrubSecrets(tail, secrets);
  return scrubbed.length > 600 ? `${scrubbed.slice(0, 600)}…` : scrubbed;
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let result = text.replace(/(\/\/)[^/@\s]*:[^/@\s]*@/g, '$1***@');
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    result = result.split(secret).join('***');
  }
  return result;
}
