import { AnswerApprovalSchema, ApprovalPolicySchema, ApprovalPatternSchema } from './approvals';
import { CreateProfileSchema } from './profile';

describe('approval policy', () => {
  it.each([
    'Bash',
    'Bash(git push:*)',
    'Bash(rm *)',
    'Write(/etc/**)',
    'Edit(src/**/*.ts)',
    'Read(//secrets/*)',
    'mcp__github',
    'mcp__github__create_issue',
    'WebFetch(domain:example.com)',
  ])('takes %s', (pattern) => {
    expect(ApprovalPatternSchema.safeParse(pattern).success).toBe(true);
  });

  it.each([
    ['', 'Too small'],
    ['Bash(', 'tool name'],
    ['-rf', 'tool name'],
    ['Glob(src/**)', 'takes no specifier'],
    ['mcp__github(x)', 'without parentheses'],
    ['WebFetch(https://x)', 'domain:'],
    ['Bash(git push\nrm -rf /)', 'one line'],
  ])('refuses %j, saying why', (pattern, why) => {
    const parsed = ApprovalPatternSchema.safeParse(pattern);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain(why);
  });

  it('defaults to nothing to approve, with a 15-minute deadline, and bounds the deadline', () => {
    expect(ApprovalPolicySchema.parse({})).toEqual({ tools: [], timeoutSeconds: 900 });
    expect(ApprovalPolicySchema.safeParse({ tools: [], timeoutSeconds: 4 }).success).toBe(false);
    expect(ApprovalPolicySchema.safeParse({ tools: [], timeoutSeconds: 86_401 }).success).toBe(false);
    expect(ApprovalPolicySchema.safeParse({ tools: [], extra: 1 }).success).toBe(false);
    const profile = CreateProfileSchema.safeParse({ name: 'p', approvals: { tools: ['Glob(x)'] } });
    expect(profile.success).toBe(false);
    expect(profile.error?.issues[0]?.path).toEqual(['approvals', 'tools', 0]);
  });

  it('takes a message with a denial only', () => {
    expect(AnswerApprovalSchema.safeParse({ decision: 'deny', message: 'no' }).success).toBe(true);
    expect(AnswerApprovalSchema.safeParse({ decision: 'allow-task' }).success).toBe(true);
    const parsed = AnswerApprovalSchema.safeParse({ decision: 'allow-once', message: 'fine' });
    expect(parsed.error?.issues[0]?.path).toEqual(['message']);
    expect(AnswerApprovalSchema.safeParse({ decision: 'maybe' }).success).toBe(false);
    expect(AnswerApprovalSchema.safeParse({ decision: 'deny', message: '   ' }).success).toBe(false);
  });
});
