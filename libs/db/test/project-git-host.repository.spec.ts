import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  migrate,
  ProjectGitHostRepository,
  type PrismaClient,
} from '../src';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

describe(ProjectGitHostRepository.name, () => {
  const { url, name } = freshDatabaseUrl('git_hosts');
  let prisma: PrismaClient;
  let hosts: ProjectGitHostRepository;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    hosts = new ProjectGitHostRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it('should replace the list, keeping the stored credential of a host sent without one', async () => {
    await hosts.replace(DEFAULT_PROJECT_ID, [
      { host: 'github.com', credential: { token: 'gh-token' } },
      { host: 'gitlab.com', credential: { token: 'gl-token', username: 'oauth2' } },
      { host: 'git.example.com:8443', credential: { token: 'ex-token' } },
    ]);

    const replaced = await hosts.replace(DEFAULT_PROJECT_ID, [
      { host: 'github.com' },
      { host: 'gitlab.com', credential: null },
      { host: 'bitbucket.org' },
    ]);

    const expected = [
      { host: 'bitbucket.org', credential: null },
      { host: 'github.com', credential: { token: 'gh-token' } },
      { host: 'gitlab.com', credential: null },
    ];
    expect(replaced).toEqual(expected);
    expect(await hosts.list(DEFAULT_PROJECT_ID)).toEqual(expected);
    expect(await hosts.listForSlug('default')).toEqual(expected);
  });

  it('should forget a credential with its host: sending the host again later brings none back', async () => {
    await hosts.replace(DEFAULT_PROJECT_ID, [{ host: 'github.com', credential: { token: 'gh-token' } }]);
    await hosts.replace(DEFAULT_PROJECT_ID, []);

    expect(await hosts.list(DEFAULT_PROJECT_ID)).toEqual([]);
    expect(await hosts.replace(DEFAULT_PROJECT_ID, [{ host: 'github.com' }])).toEqual([
      { host: 'github.com', credential: null },
    ]);
  });

  it('should let two replacements of one list take turns', async () => {
    await Promise.all(
      ['one.example.com', 'two.example.com', 'three.example.com'].map((host) =>
        hosts.replace(DEFAULT_PROJECT_ID, [
          { host, credential: { token: host } },
          { host: 'shared.example.com' },
        ]),
      ),
    );

    const list = await hosts.list(DEFAULT_PROJECT_ID);
    expect(list).toHaveLength(2);
    expect(list.map((entry) => entry.host)).toContain('shared.example.com');
  });
});
