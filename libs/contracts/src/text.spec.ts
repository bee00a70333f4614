import { withoutNul } from './text';

describe('withoutNul', () => {
  it('should put U+FFFD for each NUL in strings, keys and arrays, and leave the rest as it was', () => {
    const value = { 'a\u0000b': ['x\u0000\u0000y', 1, null, true, { deep: 'z\u0000' }], plain: 'ok' };
    expect(withoutNul(value)).toEqual({
      'a\uFFFDb': ['x\uFFFD\uFFFDy', 1, null, true, { deep: 'z\uFFFD' }],
      plain: 'ok',
    });
    expect(withoutNul('no nul')).toBe('no nul');
    expect(withoutNul(42)).toBe(42);
  });

  it('should keep a "__proto__" key as data, not as the prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": "yes\\u0000"}}') as Record<string, unknown>;
    const kept = withoutNul(parsed);
    expect(Object.getPrototypeOf(kept)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(kept)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
