import { Principal, type ProjectAccess } from './principal';
import { displayPrefix, randomSecret, safeEqual, sha256Hex } from './secrets';

const project = (slug: string, role: ProjectAccess['role']): ProjectAccess => ({
  id: `id-${slug}`,
  slug,
  name: slug,
  createdAt: '2026-12-01T00:00:00.000Z',
  routingStrategy: null,
  role,
});

const user = (projects: ProjectAccess[]) =>
  new Principal({ type: 'user', id: 'u1', label: 'ada@example.com' }, projects, null, null);

describe(Principal.name, () => {
  it('should answer 404 for a project it is not in, and 403 for a role that is too low', () => {
    const principal = user([project('alpha', 'viewer')]);
    expect(() => principal.require('id-beta', 'viewer')).toThrow(
      expect.objectContaining({ code: 'PROJECT_NOT_FOUND' }),
    );
    expect(() => principal.require('id-alpha', 'operator')).toThrow(
      expect.objectContaining({
        code: 'FORBIDDEN',
        message: expect.stringContaining('a viewer in project "alpha"'),
      }),
    );
    expect(principal.require('id-alpha', 'viewer').slug).toBe('alpha');
  });

  it('should take the only project when none is named, and ask when there are several', () => {
    expect(user([project('alpha', 'admin')]).project().slug).toBe('alpha');
    const several = user([project('alpha', 'admin'), project('beta', 'viewer')]);
    expect(() => several.project()).toThrow(
      expect.objectContaining({ code: 'PROJECT_REQUIRED', details: { field: 'project' } }),
    );
    expect(several.project('beta').role).toBe('viewer');
    expect(() => several.project('gamma')).toThrow(expect.objectContaining({ code: 'PROJECT_NOT_FOUND' }));
    expect(several.visibleIds()).toEqual(['id-alpha', 'id-beta']);
    expect(several.visibleIds('beta')).toEqual(['id-beta']);
  });
});

describe('secrets', () => {
  it('should make prefixed tokens of letters and digits that never repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomSecret('hgr_')));
    expect(tokens.size).toBe(1000);
    for (const token of tokens) expect(token).toMatch(/^hgr_[A-Za-z0-9]{40}$/);
    expect(displayPrefix('hgr_abcdefghXYZ')).toBe('hgr_abcdefgh');
  });

  it('should hash with sha256 and compare in constant time', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});
