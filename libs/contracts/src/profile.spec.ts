import { CreateProfileSchema, UpdateProfileSchema } from './profile';

const fieldsOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.error?.issues.map((issue) => issue.path.join('.')).sort();

describe('CreateProfileSchema', () => {
  it('should refuse tool names and models the CLI would read as flags, naming each field', () => {
    const result = CreateProfileSchema.safeParse({
      name: 'flags',
      model: '--dangerously-skip-permissions',
      allowedTools: ['Read', '--dangerously-skip-permissions'],
      disallowedTools: ['-p'],
    });
    expect(result.success).toBe(false);
    expect(fieldsOf(result)).toEqual(['allowedTools.1', 'disallowedTools.0', 'model']);
  });

  it('should keep accepting real tool names, patterns and model names', () => {
    const result = CreateProfileSchema.safeParse({
      name: 'real',
      model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      allowedTools: ['Bash(git status:*)', 'mcp__notes__search', 'Edit', 'Bash(-rf *)'],
      disallowedTools: ['WebFetch(domain:example.com)'],
    });
    expect(result.error?.issues).toBeUndefined();
    for (const model of [
      'claude-opus-4-1',
      'gpt-5-codex',
      'gemini-2.5-pro',
      'claude-sonnet-4-5[1m]',
      'openrouter/x-ai/grok',
    ]) {
      expect(CreateProfileSchema.shape.model.safeParse(model).success).toBe(true);
    }
  });

  it('should default the provider and take a kept secret only as {"set": true}', () => {
    const parsed = CreateProfileSchema.parse({
      name: 'p',
      mcpServers: {
        docs: { type: 'http', url: 'https://mcp.example.com', headers: { Authorization: { set: true } } },
      },
    });
    expect(parsed.provider).toBe('claude');
    const wrong = CreateProfileSchema.safeParse({
      name: 'p',
      mcpServers: { docs: { command: 'x', env: { KEY: { set: false } } } },
    });
    expect(wrong.success).toBe(false);
  });
});

describe('UpdateProfileSchema', () => {
  it('should leave out what a change does not name, defaults included', () => {
    expect(UpdateProfileSchema.parse({ maxTurns: 3 })).toEqual({ maxTurns: 3 });
    expect(UpdateProfileSchema.parse({ trustRepositorySettings: false })).toEqual({
      trustRepositorySettings: false,
    });
  });
});
