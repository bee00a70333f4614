import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseRepositorySpec, validateRef, type RepositoryPolicy } from './repository-spec.parser';
import { InvalidRepositorySpec } from './workspace.errors';

describe(parseRepositorySpec.name, () => {
  let sandbox: string;
  let allowed: string;
  let outside: string;
  let policy: RepositoryPolicy;

  beforeAll(() => {
    sandbox = realpathSync(mkdtempSync(path.join(tmpdir(), 'hangar-spec-')));
    allowed = path.join(sandbox, 'repos');
    outside = path.join(sandbox, 'elsewhere');
    mkdirSync(path.join(allowed, 'app.git'), { recursive: true });
    mkdirSync(path.join(outside, 'secret.git'), { recursive: true });
    symlinkSync(path.join(outside, 'secret.git'), path.join(allowed, 'escape.git'));
    symlinkSync(outside, path.join(allowed, 'escape-dir'));
    symlinkSync(path.join(sandbox, 'nowhere'), path.join(allowed, 'dangling'));
    symlinkSync(path.join(allowed, 'app.git'), path.join(allowed, 'inside-link.git'));
    policy = { allowedLocalRoots: [allowed] };
  });

  afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

  function refusal(repository: string, ref?: string, custom?: RepositoryPolicy): InvalidRepositorySpec {
    try {
      parseRepositorySpec({ repository, ...(ref !== undefined ? { ref } : {}) }, custom ?? policy);
    } catch (error) {
      if (error instanceof InvalidRepositorySpec) return error;
      throw error;
    }
    throw new Error(`accepted ${repository} ${ref ?? ''}`);
  }

  it.each([
    ['https://github.com/owner/repo.git', 'https://github.com/owner/repo.git'],
    ['https://gitlab.example.com:8443/group/sub/repo', 'https://gitlab.example.com:8443/group/sub/repo'],
    ['https://[::1]:8443/repo.git', 'https://[::1]:8443/repo.git'],
    ['ssh://git@github.com/owner/repo.git', 'ssh://git@github.com/owner/repo.git'],
    ['ssh://git@github.com:2222/owner/repo.git', 'ssh://git@github.com:2222/owner/repo.git'],
    ['git@github.com:owner/repo.git', 'git@github.com:owner/repo.git'],
    ['github.com:owner/repo', 'github.com:owner/repo'],
  ])('should accept the remote %s', (repository, url) => {
    expect(parseRepositorySpec({ repository }, policy)).toEqual({ kind: 'remote', url });
  });

  it('should accept a local path inside an allowed root, resolved to its real path', () => {
    expect(parseRepositorySpec({ repository: path.join(allowed, 'app.git') }, policy)).toEqual({
      kind: 'local',
      path: path.join(allowed, 'app.git'),
    });
    expect(parseRepositorySpec({ repository: `${allowed}//./app.git/` }, policy)).toEqual({
      kind: 'local',
      path: path.join(allowed, 'app.git'),
    });
    expect(parseRepositorySpec({ repository: path.join(allowed, 'inside-link.git') }, policy)).toEqual({
      kind: 'local',
      path: path.join(allowed, 'app.git'),
    });
  });

  it('should accept a path that does not exist yet when it stays inside the root', () => {
    expect(parseRepositorySpec({ repository: path.join(allowed, 'later', 'x.git') }, policy)).toEqual({
      kind: 'local',
      path: path.join(allowed, 'later', 'x.git'),
    });
  });

  it('should accept file:// URLs only when the policy allows them', () => {
    const url = `file://${path.join(allowed, 'app.git')}`;
    expect(parseRepositorySpec({ repository: url }, { ...policy, allowFileUrls: true })).toEqual({
      kind: 'local',
      path: path.join(allowed, 'app.git'),
    });
    expect(refusal(url).message).toMatch(/file:\/\/ URLs are not accepted/);
  });

  it('should keep a valid ref', () => {
    expect(parseRepositorySpec({ repository: 'git@github.com:o/r.git', ref: 'release/1.2' }, policy)).toEqual(
      {
        kind: 'remote',
        url: 'git@github.com:o/r.git',
        ref: 'release/1.2',
      },
    );
  });

  it.each([
    ['--upload-pack=touch /tmp/pwned', /must not contain spaces/],
    ['--upload-pack=touch${IFS}/tmp/pwned', /must not start with '-'/],
    ['-c', /must not start with '-'/],
    ['-oProxyCommand=touch', /must not start with '-'/],
    ['ext::sh -c touch% /tmp/pwned', /spaces/],
    ['ext::sh', /transport helper/],
    ['fd::3', /transport helper/],
    ['myhelper::https://example.com/repo', /transport helper/],
    ['https://user:token@github.com/owner/repo.git', /must not contain a user name or token/],
    ['https://ghp_abcdef@github.com/owner/repo.git', /must not contain a user name or token/],
    ['ssh://git:hunter2@github.com/owner/repo.git', /must not contain a password/],
    ['git:hunter2@github.com:owner/repo.git', /must not contain a password/],
    ['ssh://-oProxyCommand=touch/repo', /invalid host/],
    ['git@-oProxyCommand=x:repo', /invalid host/],
    ['git@github.com:-repo', /must not start with '-'/],
    ['http://github.com/owner/repo.git', /plain http/],
    ['git://github.com/owner/repo.git', /git:\/\/ is not accepted/],
    ['ftp://example.com/repo.git', /ftp:\/\/ URLs are not accepted/],
    ['https://github.com', /must name a repository path/],
    ['https://github.com/owner/repo.git?x=1', /query or a fragment/],
    ['https://github.com/owner/repo%0a.git', /percent-encoded control/],
    ['https://github.com\\@evil.com/repo', /backslashes/],
    ['https://github.com/owner/repo.git\n', /control characters/],
    ['https://github.com/own\u202eer/repo.git', /control characters/],
    ['owner/repo', /neither a URL nor an absolute path/],
    ['', /must not be empty/],
  ])('should refuse %j', (repository, message) => {
    const error = refusal(repository);
    expect(error.code).toBe('INVALID_REPOSITORY');
    expect(error.field).toBe('repository');
    expect(error.message).toMatch(message);
  });

  it('should refuse an overlong repository', () => {
    expect(refusal(`https://github.com/${'a'.repeat(2100)}`).message).toMatch(/longer than 2048/);
  });

  it('should never repeat a secret pasted into the repository', () => {
    expect(refusal('https://me:s3cr3t-token@github.com/o/r.git').message).not.toContain('s3cr3t-token');
    expect(refusal('me:s3cr3t-token@github.com:o/r.git').message).not.toContain('s3cr3t-token');
  });

  it('should refuse local paths with .., outside the roots, or escaping through a symbolic link', () => {
    expect(refusal(`${allowed}/../elsewhere/secret.git`).message).toMatch(/must not contain '\.\.'/);
    expect(refusal(`${allowed}/app.git/..`).message).toMatch(/must not contain '\.\.'/);
    expect(refusal(path.join(outside, 'secret.git')).message).toMatch(/must be inside one of the folders/);
    expect(refusal(path.join(allowed, 'escape.git')).message).toMatch(/through a symbolic link/);
    expect(refusal(path.join(allowed, 'escape-dir', 'secret.git')).message).toMatch(
      /through a symbolic link/,
    );
    expect(refusal(path.join(allowed, 'escape-dir', 'not-yet.git')).message).toMatch(
      /through a symbolic link/,
    );
    expect(refusal(path.join(allowed, 'dangling')).message).toMatch(/broken symbolic link/);
    expect(refusal(`${allowed}-sibling/x.git`).message).toMatch(/must be inside one of the folders/);
    expect(refusal(path.join(allowed, 'app.git'), undefined, { allowedLocalRoots: [] }).message).toMatch(
      /local repositories are not accepted/,
    );
    const files = { ...policy, allowFileUrls: true };
    expect(refusal(`file://${allowed}/../elsewhere/secret.git`, undefined, files).message).toMatch(/'\.\.'/);
    expect(refusal(`file://${allowed}/%2e%2e/elsewhere`, undefined, files).message).toMatch(
      /percent-encoded/,
    );
    expect(refusal(`file://evil.com${allowed}/app.git`, undefined, files).message).toMatch(/local absolute/);
  });

  it.each([
    ['', /must not be empty/],
    ['-b', /must not start with '-'/],
    ['--upload-pack=x', /must not start with '-'/],
    ['main..evil', /must not contain '\.\.'/],
    ['main@{1}', /may only contain/],
    ['has space', /may only contain/],
    ['a:b', /may only contain/],
    ['a~1', /may only contain/],
    ['topic.lock', /'\.lock'/],
    ['feature/x.lock/y', /'\.lock'/],
    ['feature/', /must not start or end with '\/'/],
    ['/main', /must not start or end with '\/'/],
    ['a//b', /'\/\/'/],
    ['feature/.hidden', /may start with '\.'/],
    ['main.', /must not end with '\.'/],
    ['x'.repeat(256), /longer than 255/],
  ])('should refuse the ref %j', (ref, message) => {
    const error = refusal('https://github.com/o/r.git', ref);
    expect(error.field).toBe('ref');
    expect(error.message).toMatch(message);
  });

  it.each(['main', 'v1.2.3', 'release/2024-01', 'refs/heads/main', 'a1b2c3d', 'feature_x/y-z'])(
    'should accept the ref %j',
    (ref) => {
      expect(validateRef(ref)).toBe(ref);
    },
  );
});
