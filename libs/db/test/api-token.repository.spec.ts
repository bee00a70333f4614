import { ApiTokenRepository, DEFAULT_PROJECT_ID } from '../src';
import { migratedDatabase } from './fresh-database';

// A token's grant is read on every API request; requests that ask at once share one statement,
// and each is answered with its own token's grant.
describe(ApiTokenRepository.name, () => {
  const database = migratedDatabase('api_tokens');

  const create = (repository: ApiTokenRepository, name: string, role: 'viewer' | 'operator') =>
    repository.create({
      projectId: DEFAULT_PROJECT_ID,
      name,
      prefix: `hgr_${name}`,
      hash: `hash-${name}`,
      role,
      expiresAt: null,
      createdById: null,
    });

  it("answers grants asked for at once each with its own token's, and null for an unknown one", async () => {
    const tokens = new ApiTokenRepository(database.prisma);
    await create(tokens, 'ci', 'operator');
    await create(tokens, 'reader', 'viewer');
    const asked = ['hash-ci', 'hash-reader', 'hash-nobody', 'hash-ci', 'hash-reader', 'hash-ci'];
    const grants = await Promise.all(asked.map((hash) => tokens.grant(hash)));
    expect(grants.map((grant) => grant && { name: grant.name, role: grant.role })).toEqual([
      { name: 'ci', role: 'operator' },
      { name: 'reader', role: 'viewer' },
      null,
      { name: 'ci', role: 'operator' },
      { name: 'reader', role: 'viewer' },
      { name: 'ci', role: 'operator' },
    ]);
    expect(grants[1]).toMatchObject({
      projectId: DEFAULT_PROJECT_ID,
      project: { slug: 'default' },
      revokedAt: null,
      creator: null,
    });
  });

  it('answers a grant asked for after a revocation with the revocation', async () => {
    const tokens = new ApiTokenRepository(database.prisma);
    const token = await create(tokens, 'leaving', 'operator');
    // A statement for other requests is running when the revocation commits.
    const before = Promise.all([tokens.grant('hash-ci'), tokens.grant('hash-reader')]);
    await tokens.revoke(token.id);
    const after = await tokens.grant('hash-leaving');
    await before;
    expect(after?.revokedAt).toBeInstanceOf(Date);
  });
});
