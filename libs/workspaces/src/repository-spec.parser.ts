import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertRepositoryHostAllowed, type GitHostPolicy } from './git-host.policy';
import { InvalidRepositorySpec } from './workspace.errors';

export type RepositorySpec =
  { kind: 'remote'; url: string; ref?: string } | { kind: 'local'; path: string; ref?: string };

export interface RepositoryInput {
  repository: string;
  ref?: string;
}

export interface RepositoryPolicy {
  // Local repositories (absolute paths) are accepted only inside these folders; none → no local ones.
  allowedLocalRoots: string[];
  allowFileUrls?: boolean;
  // Given: a remote repository must be on a host it allows (git refuses the others anyway).
  hosts?: GitHostPolicy;
}

export const MAX_REPOSITORY_LENGTH = 2048;
export const MAX_REF_LENGTH = 255;

const ACCEPTED_FORMS =
  'use an https:// or ssh:// URL, git@host:owner/repo.git, or the absolute path of a local repository';
const HOST_NAME = String.raw`[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*`;
const IPV6_HOST = String.raw`\[[0-9A-Fa-f:.]+\]`;
const AUTHORITY = new RegExp(`^(?:${HOST_NAME}|${IPV6_HOST})(?::[0-9]{1,5})?$`);
const SCP_HOST = new RegExp(`^(?:${HOST_NAME}|${IPV6_HOST})$`);
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const URL_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;
const SCP_PATH = /^[A-Za-z0-9._~/+][A-Za-z0-9._~/+-]*$/;
// Percent-encoded control characters would reach git decoded.
const ENCODED_CONTROL = /%(?:[01][0-9A-Fa-f]|7[Ff])/;
const UNSAFE_CHARACTERS = /[\s\p{Cc}\p{Cf}\p{Z}\\]/u;
// Git runs a remote helper for "<transport>::<address>" (ext::, fd::, …).
const TRANSPORT_HELPER = /^[A-Za-z0-9+.-]*::/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

// Pure and synchronous (the only I/O is realpath of local paths), so the gateway can refuse bad input
// before anything is queued; the runner calls it again before cloning.
export function parseRepositorySpec(input: RepositoryInput, policy: RepositoryPolicy): RepositorySpec {
  const location = parseLocation(input.repository, policy);
  if (policy.hosts !== undefined) assertRepositoryHostAllowed(location, policy.hosts);
  if (input.ref === undefined) return location;
  return { ...location, ref: validateRef(input.ref) };
}

// Where git is pointed at: the URL of a remote repository, the path of a local one.
export function repositorySource(spec: RepositorySpec): string {
  return spec.kind === 'remote' ? spec.url : spec.path;
}

export function isFullCommitId(ref: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(ref);
}

export function mayBeAbbreviatedCommitId(ref: string): boolean {
  return /^[0-9a-f]{7,63}$/.test(ref);
}

// A safe subset of `git check-ref-format`: what branch and tag names people actually use.
export function validateRef(ref: unknown): string {
  const refuse = (message: string): never => {
    throw new InvalidRepositorySpec('ref', message);
  };
  if (typeof ref !== 'string') return refuse('ref must be a string');
  if (ref.length === 0) return refuse('ref must not be empty; leave it out to use the default branch');
  if (ref.length > MAX_REF_LENGTH) return refuse(`ref is longer than ${MAX_REF_LENGTH} characters`);
  if (ref.startsWith('-')) return refuse("ref must not start with '-'");
  if (/[^A-Za-z0-9._/-]/.test(ref)) {
    return refuse("ref may only contain letters, digits, '.', '_', '/' and '-'");
  }
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) {
    return refuse("ref must not start or end with '/' or contain '//'");
  }
  if (ref.includes('..')) return refuse("ref must not contain '..'");
  if (ref.endsWith('.')) return refuse("ref must not end with '.'");
  for (const component of ref.split('/')) {
    if (component.startsWith('.')) return refuse("no part of a ref may start with '.'");
    if (component.endsWith('.lock')) return refuse("no part of a ref may end with '.lock'");
  }
  return ref;
}

function parseLocation(repository: unknown, policy: RepositoryPolicy): RepositorySpec {
  // Messages never repeat the input: it may hold a secret the user pasted by mistake.
  if (typeof repository !== 'string') refuse('repository must be a string');
  const raw = repository;
  if (raw.length === 0) refuse(`repository must not be empty; ${ACCEPTED_FORMS}`);
  if (raw.length > MAX_REPOSITORY_LENGTH)
    refuse(`repository is longer than ${MAX_REPOSITORY_LENGTH} characters`);
  if (UNSAFE_CHARACTERS.test(raw)) {
    refuse('repository must not contain spaces, backslashes or control characters');
  }
  if (raw.startsWith('-')) refuse("repository must not start with '-' (git would read it as an option)");
  if (TRANSPORT_HELPER.test(raw)) {
    refuse(`repository must not name a git transport helper such as ext:: or fd::; ${ACCEPTED_FORMS}`);
  }
  if (ENCODED_CONTROL.test(raw)) refuse('repository must not contain percent-encoded control characters');

  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    switch (scheme) {
      case 'https':
        return { kind: 'remote', url: parseHttpsUrl(raw) };
      case 'ssh':
        return { kind: 'remote', url: parseSshUrl(raw) };
      case 'file':
        if (!policy.allowFileUrls)
          refuse('file:// URLs are not accepted here; give the absolute path instead');
        return { kind: 'local', path: checkLocalPath(fileUrlPath(raw), policy) };
      case 'http':
        return refuse('plain http:// is not accepted (nothing would be encrypted); use https://');
      case 'git':
        return refuse('git:// is not accepted (it is not authenticated); use https:// or ssh://');
      default:
        return refuse(`${scheme}:// URLs are not accepted; ${ACCEPTED_FORMS}`);
    }
  }
  if (raw.startsWith('/')) return { kind: 'local', path: checkLocalPath(raw, policy) };
  if (/^[^/]*:/.test(raw)) return { kind: 'remote', url: parseScpLike(raw) };
  return refuse(`repository is neither a URL nor an absolute path; ${ACCEPTED_FORMS}`);
}

function parseHttpsUrl(raw: string): string {
  const [, authority = '', rest = ''] = /^https:\/\/([^/?#]*)(.*)$/i.exec(raw) ?? [];
  if (authority.includes('@')) {
    refuse(
      'repository URL must not contain a user name or token; credentials come from the server configuration',
    );
  }
  if (!AUTHORITY.test(authority)) refuse('repository URL has an invalid host name or port');
  if (rest.includes('?') || rest.includes('#')) refuse('repository URL must not have a query or a fragment');
  if (!URL_PATH.test(rest) || rest.replace(/\//g, '').length === 0) {
    refuse('repository URL must name a repository path, e.g. https://github.com/owner/repo.git');
  }
  return raw;
}

function parseSshUrl(raw: string): string {
  const [, authority = '', rest = ''] = /^ssh:\/\/([^/?#]*)(.*)$/i.exec(raw) ?? [];
  const at = authority.lastIndexOf('@');
  const user = at >= 0 ? authority.slice(0, at) : undefined;
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  if (user !== undefined && user.includes(':')) {
    refuse('repository URL must not contain a password; credentials come from the server configuration');
  }
  if (user !== undefined && !USER_NAME.test(user)) refuse('repository URL has an invalid user name');
  if (!AUTHORITY.test(hostPort)) refuse('repository URL has an invalid host name or port');
  if (rest.includes('?') || rest.includes('#')) refuse('repository URL must not have a query or a fragment');
  if (!URL_PATH.test(rest) || rest.replace(/\//g, '').length === 0) {
    refuse('repository URL must name a repository path, e.g. ssh://git@github.com/owner/repo.git');
  }
  return raw;
}

// git@host:owner/repo.git — git reads "<host>:<path>" this way when the colon comes before any slash.
function parseScpLike(raw: string): string {
  const colon = raw.indexOf(':');
  const userHost = raw.slice(0, colon);
  const repoPath = raw.slice(colon + 1);
  if (/:[^@]*@/.test(raw.split('/')[0] ?? '')) {
    refuse('repository must not contain a password; credentials come from the server configuration');
  }
  const at = userHost.lastIndexOf('@');
  const user = at >= 0 ? userHost.slice(0, at) : undefined;
  const host = at >= 0 ? userHost.slice(at + 1) : userHost;
  if (user !== undefined && !USER_NAME.test(user)) refuse('repository has an invalid user name');
  if (!SCP_HOST.test(host)) refuse('repository has an invalid host name');
  if (!SCP_PATH.test(repoPath) || repoPath.replace(/\//g, '').length === 0) {
    refuse(
      "repository path may only contain letters, digits, '.', '_', '~', '+', '/' and '-' and must not start with '-', e.g. git@github.com:owner/repo.git",
    );
  }
  return raw;
}

function fileUrlPath(raw: string): string {
  if (!/^file:\/\/(?:localhost)?\//i.test(raw)) refuse('file:// URLs must name a local absolute path');
  if (raw.includes('?') || raw.includes('#')) refuse('file:// URLs must not have a query or a fragment');
  // The URL parser would turn %2e%2e into "..": refuse any encoding, then check the plain text.
  if (raw.includes('%')) refuse('file:// URLs must not be percent-encoded; give the absolute path instead');
  hasNoDotDot(raw);
  try {
    return fileURLToPath(raw);
  } catch {
    return refuse('repository is not a valid file:// URL');
  }
}

function checkLocalPath(input: string, policy: RepositoryPolicy): string {
  const roots = policy.allowedLocalRoots.filter((root) => path.isAbsolute(root));
  if (roots.length === 0) refuse('local repositories are not accepted here; use an https:// or ssh:// URL');
  hasNoDotDot(input);
  const resolved = path.resolve(input);
  const real = realpathOfExisting(resolved);
  const realRoots = roots.map((root) => realpathOfExisting(path.resolve(root)));
  if (realRoots.some((root) => isInside(real, root))) return real;
  const where = roots.join(', ');
  if (roots.some((root) => isInside(resolved, path.resolve(root)))) {
    refuse(
      `repository path leads (through a symbolic link) outside the folders allowed for local repositories: ${where}`,
    );
  }
  return refuse(`repository path must be inside one of the folders allowed for local repositories: ${where}`);
}

function hasNoDotDot(input: string): void {
  if (input.split('/').includes('..')) refuse("repository path must not contain '..'");
}

export function isInside(target: string, root: string): boolean {
  const relative = path.relative(root, target);
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

// realpath of the longest existing prefix, plus the rest: a link anywhere on the way is resolved.
function realpathOfExisting(target: string): string {
  const missing: string[] = [];
  let current = target;
  for (;;) {
    try {
      return path.join(realpathSync.native(current), ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        return refuse(`repository path cannot be resolved (${code ?? 'unknown error'})`);
      }
      if (lstatExists(current)) refuse('repository path goes through a broken symbolic link');
      const parent = path.dirname(current);
      if (parent === current) return target;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

function lstatExists(target: string): boolean {
  try {
    lstatSync(target);
    return true;
  } catch {
    return false;
  }
}

function refuse(message: string): never {
  throw new InvalidRepositorySpec('repository', message);
}
