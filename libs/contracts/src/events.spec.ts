import { AgentEventSchema } from './events';

describe('AgentEventSchema', () => {
  it('should accept each event type with its own data and refuse mismatched data', () => {
    expect(
      AgentEventSchema.safeParse({
        type: 'tool.use',
        data: { toolUseId: 't1', name: 'Write', input: { file_path: '/w/a' } },
      }).success,
    ).toBe(true);
    expect(AgentEventSchema.safeParse({ type: 'task.status', data: { status: 'DONE' } }).success).toBe(false);
    expect(AgentEventSchema.safeParse({ type: 'tool.use', data: { text: 'not a tool call' } }).success).toBe(
      false,
    );
  });

  it('should keep anything under unknown', () => {
    const raw = { type: 'system', subtype: 'from_a_newer_cli', anything: [1, 2] };
    expect(AgentEventSchema.parse({ type: 'unknown', data: { raw } })).toEqual({
      type: 'unknown',
      data: { raw },
    });
  });
});
