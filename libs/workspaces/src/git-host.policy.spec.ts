import {
  assertRepositoryHostAllowed,
  gitHostPolicy,
  parseGitHost,
  repositoryEndpoint,
  type InstallationGitHosts,
} from './git-host.policy';
import { parseRepositorySpec } from './repository-spec.parser';
import { InvalidRepositorySpec } from './workspace.errors';

const installation: InstallationGitHosts = {
  allowedHosts: ['github.com', 'gitlab.com'],
  credentials: [{ host: 'github.com', token: 'installation-token' }],
};
const https = (host: string) => ({ host, port: 443 });

describe(gitHostPolicy.name, () => {
  it("should use the installation's hosts and credentials when the project has no list", () => {
    const policy = gitHostPolicy([], installation);

    expect(policy.source).toBe('installation');
    expect(policy.allowed(https('github.com'))).toBe(true);
    expect(policy.allowed(https('gitlab.com'))).toBe(true);
    expect(policy.allowed(https('example.com'))).toBe(false);
    expect(policy.credentialFor(https('github.com'))).toEqual({ token: 'installation-token' });
    expect(policy.credentialFor(https('gitlab.com'))).toBeUndefined();
  });

  it("should use only the project's list, never the installation's credentials, when it has one", () => {
    const policy = gitHostPolicy(
      [
        { host: 'git.example.com', credential: { token: 'project-token', username: 'oauth2' } },
        { host: 'github.com', credential: null },
      ],
      installation,
    );

    expect(policy.source).toBe('project');
    expect(policy.allowed(https('gitlab.com'))).toBe(false);
    expect(policy.credentialFor(https('git.example.com'))).toEqual({
      token: 'project-token',
      username: 'oauth2',
    });
    expect(policy.allowed(https('github.com'))).toBe(true);
    expect(policy.credentialFor(https('github.com'))).toBeUndefined();
  });

  it('should match the host exactly and the port exactly, a host without port on 443 and 22 only', () => {
    const policy = gitHostPolicy(
      [
        { host: 'git.example.com', credential: { token: 'a' } },
        { host: 'git.example.com:8443', credential: { token: 'b' } },
        { host: 'localhost:9000' },
      ],
      installation,
    );

    expect(policy.credentialFor({ host: 'git.example.com', port: 443 })).toEqual({ token: 'a' });
    expect(policy.credentialFor({ host: 'git.example.com', port: 22 })).toEqual({ token: 'a' });
    expect(policy.credentialFor({ host: 'git.example.com', port: 8443 })).toEqual({ token: 'b' });
    expect(policy.allowed({ host: 'git.example.com', port: 8080 })).toBe(false);
    expect(policy.allowed({ host: 'GIT.example.com', port: 443 })).toBe(true);
    for (const host of ['example.com', 'sub.git.example.com', 'git.example.com.evil.io', 'git-example.com']) {
      expect(policy.allowed(https(host))).toBe(false);
      expect(policy.credentialFor(https(host))).toBeUndefined();
    }
    expect(policy.allowed({ host: 'localhost', port: 9000 })).toBe(true);
    expect(policy.allowed({ host: 'localhost', port: 443 })).toBe(false);
  });

  it('should prefer the entry naming the port over one relying on the default ports', () => {
    const policy = gitHostPolicy(
      [{ host: 'git.example.com', credential: { token: 'a' } }, { host: 'git.example.com:443' }],
      installation,
    );

    expect(policy.credentialFor(https('git.example.com'))).toBeUndefined();
    expect(policy.credentialFor({ host: 'git.example.com', port: 22 })).toEqual({ token: 'a' });
  });

  it('should allow nothing remote when the installation allows no host', () => {
    const policy = gitHostPolicy([], { allowedHosts: [] });

    expect(policy.allowed(https('github.com'))).toBe(false);
  });
});

describe(repositoryEndpoint.name, () => {
  const remote = (url: string) => repositoryEndpoint({ kind: 'remote', url });

  it.each([
    ['https://github.com/o/r.git', 'github.com', 443],
    ['https://GitHub.com:8443/o/r.git', 'github.com', 8443],
    ['https://[::1]:9000/o/r.git', '[::1]', 9000],
    ['ssh://git@gitlab.com/o/r.git', 'gitlab.com', 22],
    ['ssh://git@gitlab.com:2222/o/r.git', 'gitlab.com', 2222],
    ['git@github.com:o/r.git', 'github.com', 22],
    ['github.com:o/r.git', 'github.com', 22],
    ['git@[::1]:o/r.git', '[::1]', 22],
  ])('should find where git connects for %s', (url, host, port) => {
    expect(remote(url)).toEqual({ host, port });
  });

  it('should have none for a local repository', () => {
    expect(repositoryEndpoint({ kind: 'local', path: '/srv/repo' })).toBeNull();
  });
});

describe(assertRepositoryHostAllowed.name, () => {
  const policy = gitHostPolicy([{ host: 'github.com' }], installation);
  const refusal = (repository: string) => {
    try {
      parseRepositorySpec({ repository }, { allowedLocalRoots: ['/srv'], hosts: policy });
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('should refuse an SSH or HTTPS repository on another host as a bad repository, naming the host', () => {
    for (const repository of [
      'https://gitlab.com/o/r.git',
      'git@gitlab.com:o/r.git',
      'ssh://git@gitlab.com/o/r.git',
    ]) {
      const error = refusal(repository);
      expect(error).toBeInstanceOf(InvalidRepositorySpec);
      expect(error).toMatchObject({ field: 'repository', code: 'INVALID_REPOSITORY' });
      expect((error as Error).message).toBe(
        "git host gitlab.com is not allowed for this project; a project admin can add it to the project's git hosts",
      );
    }
    expect((refusal('https://github.com:8443/o/r.git') as Error).message).toMatch(
      /^git host github\.com:8443 /,
    );
  });

  it('should accept allowed hosts and leave local repositories to the allowed roots', () => {
    expect(refusal('https://github.com/o/r.git')).toBeUndefined();
    expect(refusal('git@github.com:o/r.git')).toBeUndefined();
    expect(refusal('/srv/repo')).toBeUndefined();
  });

  it('should refuse every remote repository when no policy is given', () => {
    expect(() =>
      assertRepositoryHostAllowed({ kind: 'remote', url: 'https://github.com/o/r' }, undefined),
    ).toThrow(InvalidRepositorySpec);
  });
});

describe(parseGitHost.name, () => {
  it.each([
    ['github.com', 'github.com', null],
    ['Git.Example.com:8443', 'git.example.com', 8443],
    ['[::1]', '[::1]', null],
    ['[::1]:22', '[::1]', 22],
  ])('should split %s', (text, host, port) => {
    expect(parseGitHost(text)).toEqual({ host, port });
  });
});
