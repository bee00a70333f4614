import { accessSync, constants } from 'node:fs';
import { ClaudeBinaryNotFound, resolveClaudeBinary } from './claude-binary';
import { buildClaudeInvocation, claudePromptInput } from './claude-invocation';

describe(buildClaudeInvocation.name, () => {
  it('should run the packaged CLI headless with stream-json and acceptEdits by default', () => {
    const invocation = buildClaudeInvocation({ prompt: 'write hello', homeDir: '/runs/r1' });
    expect(invocation.command).toBe(resolveClaudeBinary());
    expect(invocation.args).toEqual([
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--permission-mode',
      'acceptEdits',
      '--setting-sources',
      'user',
      '--strict-mcp-config',
      '--',
      'write hello',
    ]);
    expect(invocation.stdin).toBeUndefined();
  });

  it('should start a CLI that waits for its prompt on stdin as one stream-json user message', () => {
    const invocation = buildClaudeInvocation({ prompt: '', homeDir: '/runs/w1', waitForPrompt: true });
    expect(invocation.args.slice(-2)).toEqual(['--input-format', 'stream-json']);
    expect(invocation.args).not.toContain('--');
    expect(invocation.stdin).toBeUndefined();
    const line = claudePromptInput('say "hi"\nand go');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      type: 'user',
      message: { role: 'user', content: 'say "hi"\nand go' },
    });
  });

  it('should pass every option the task asks for, keeping the prompt after --', () => {
    const invocation = buildClaudeInvocation({
      prompt: '--looks like a flag',
      homeDir: '/runs/r1',
      model: 'claude-sonnet-4-5',
      permissionMode: 'dontAsk',
      maxTurns: 4,
      appendSystemPrompt: 'Be brief.',
      allowedTools: ['Bash(git *)', 'Edit'],
      disallowedTools: ['WebFetch'],
      mcpConfig: '/runs/r1/mcp.json',
      resumeSessionId: '668a28f2-e4d9-4968-b4da-783d3b78f783',
    });
    expect(invocation.args).toEqual([
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--permission-mode',
      'dontAsk',
      '--model',
      'claude-sonnet-4-5',
      '--max-turns',
      '4',
      '--append-system-prompt',
      'Be brief.',
      '--allowedTools',
      'Bash(git *)',
      'Edit',
      '--disallowedTools',
      'WebFetch',
      '--mcp-config',
      '/runs/r1/mcp.json',
      '--resume',
      '668a28f2-e4d9-4968-b4da-783d3b78f783',
      '--setting-sources',
      'user',
      '--strict-mcp-config',
      '--',
      '--looks like a flag',
    ]);
  });

  it("should load the repository's own settings and MCP servers only when the profile trusts them", () => {
    const { args } = buildClaudeInvocation({
      prompt: 'hi',
      homeDir: '/runs/r1',
      trustRepositorySettings: true,
    });
    expect(args).not.toContain('--setting-sources');
    expect(args).not.toContain('--strict-mcp-config');
  });

  it('should build the environment from scratch, never from the parent', () => {
    process.env['HANGAR_TEST_SECRET'] = 'do-not-leak';
    const invocation = buildClaudeInvocation({
      prompt: 'p',
      homeDir: '/runs/r1',
      baseUrl: 'http://127.0.0.1:4010/s/reply/r1',
      apiKey: 'sk-scripted',
      env: { TRACEPARENT: '00-abc-def-01' },
    });
    delete process.env['HANGAR_TEST_SECRET'];
    expect(invocation.env).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/runs/r1',
      CLAUDE_CONFIG_DIR: '/runs/r1/.claude',
      LANG: 'C.UTF-8',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:4010/s/reply/r1',
      ANTHROPIC_API_KEY: 'sk-scripted',
      TRACEPARENT: '00-abc-def-01',
    });
  });

  it('should declare a sandbox when bypassPermissions is asked for, since the CLI refuses it to root otherwise', () => {
    const invocation = buildClaudeInvocation({
      prompt: 'p',
      homeDir: '/h',
      permissionMode: 'bypassPermissions',
    });
    expect(invocation.env['IS_SANDBOX']).toBe('1');
    expect(buildClaudeInvocation({ prompt: 'p', homeDir: '/h' }).env['IS_SANDBOX']).toBeUndefined();
  });

  it('should ask for structured output with --json-schema as one argument, before the prompt, when the task has an output schema', () => {
    const outputSchema = {
      type: 'object',
      properties: { verdict: { type: 'string', enum: ['approve', "it's wrong; $(rm -rf /)"] } },
      required: ['verdict'],
    };
    const { args } = buildClaudeInvocation({ prompt: 'review', homeDir: '/h', outputSchema });
    const at = args.indexOf('--json-schema');
    expect(at).toBeGreaterThan(0);
    expect(JSON.parse(args[at + 1] ?? '')).toEqual(outputSchema);
    expect(args.slice(-2)).toEqual(['--', 'review']);
    expect(buildClaudeInvocation({ prompt: 'review', homeDir: '/h' }).args).not.toContain('--json-schema');
  });

  it('should make approval patterns ask rules, answered by the permission prompt tool', () => {
    const { args } = buildClaudeInvocation({
      prompt: 'push',
      homeDir: '/h',
      approvals: {
        patterns: ['Bash(git push:*)', 'Write(/etc/**)'],
        promptTool: 'mcp__hangar__permission_prompt',
      },
    });
    const settings = args[args.indexOf('--settings') + 1] ?? '';
    expect(JSON.parse(settings)).toEqual({ permissions: { ask: ['Bash(git push:*)', 'Edit(//etc/**)'] } });
    expect(args[args.indexOf('--permission-prompt-tool') + 1]).toBe('mcp__hangar__permission_prompt');
    expect(args.slice(-2)).toEqual(['--', 'push']);
    const none = buildClaudeInvocation({
      prompt: 'p',
      homeDir: '/h',
      approvals: { patterns: [], promptTool: 'mcp__hangar__permission_prompt' },
    }).args;
    expect(none).not.toContain('--permission-prompt-tool');
    expect(none).not.toContain('--settings');
  });

  it('should send a prompt too long for one argument through stdin', () => {
    const prompt = 'é'.repeat(60_000);
    const invocation = buildClaudeInvocation({ prompt, homeDir: '/h' });
    expect(invocation.stdin).toBe(prompt);
    expect(invocation.args).not.toContain(prompt);
    expect(invocation.args).not.toContain('--');
  });
});

describe(resolveClaudeBinary.name, () => {
  it('should find the executable shipped in the @anthropic-ai/claude-code package', () => {
    const binary = resolveClaudeBinary();
    expect(binary).toMatch(/@anthropic-ai[/+]claude-code.*\/bin\/claude\.exe$/);
    expect(() => accessSync(binary, constants.X_OK)).not.toThrow();
  });

  it('should prefer an explicit path and refuse one that is not executable', () => {
    expect(resolveClaudeBinary('/bin/sh')).toBe('/bin/sh');
    expect(() => resolveClaudeBinary('/nonexistent/claude')).toThrow(ClaudeBinaryNotFound);
  });

  it('should be used when the invocation names a binary', () => {
    expect(buildClaudeInvocation({ prompt: 'p', homeDir: '/h', binaryPath: '/bin/sh' }).command).toBe(
      '/bin/sh',
    );
  });
});
