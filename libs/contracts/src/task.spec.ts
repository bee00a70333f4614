import { CreateTaskSchema } from './task';

describe('CreateTaskSchema', () => {
  it('should accept the documented body and trim the prompt', () => {
    expect(
      CreateTaskSchema.parse({
        prompt: '  fix it  ',
        scenario: 'write-file',
        timeoutSeconds: 30,
        profile: 'default',
      }),
    ).toEqual({
      prompt: 'fix it',
      scenario: 'write-file',
      timeoutSeconds: 30,
      profile: 'default',
    });
  });

  it('should name every bad field when several are wrong', () => {
    const result = CreateTaskSchema.safeParse({
      prompt: '   ',
      scenario: 'Write File',
      timeoutSeconds: 0,
      extra: true,
    });
    expect(result.success).toBe(false);
    const fields = result.error?.issues.map((issue) => issue.path.join('.') || issue.code).sort();
    expect(fields).toEqual(['prompt', 'scenario', 'timeoutSeconds', 'unrecognized_keys']);
  });

  it('should refuse a timeout longer than a day and a fractional one', () => {
    expect(CreateTaskSchema.safeParse({ prompt: 'x', timeoutSeconds: 86_401 }).success).toBe(false);
    expect(CreateTaskSchema.safeParse({ prompt: 'x', timeoutSeconds: 1.5 }).success).toBe(false);
  });
});
