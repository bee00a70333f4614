import { agentAdapterFor, ignoredRunOptions } from './agent-adapter';
import { AGENT_PROVIDERS } from './agent-provider';
import { ClaudeStreamParser } from './claude/claude-stream.parser';
import { CodexStreamParser } from './codex/codex-stream.parser';
import { GeminiStreamParser } from './gemini/gemini-stream.parser';

describe(agentAdapterFor.name, () => {
  const spec = {
    prompt: 'p',
    homeDir: '/h',
    maxTurns: 3,
    mcpConfigPath: '/h/mcp.json',
    allowedTools: [],
    appendSystemPrompt: 'Be brief.',
  };

  it('should give each provider its parser and invocation', () => {
    expect(agentAdapterFor('claude').createParser()).toBeInstanceOf(ClaudeStreamParser);
    expect(agentAdapterFor('codex').createParser()).toBeInstanceOf(CodexStreamParser);
    expect(agentAdapterFor('gemini').createParser()).toBeInstanceOf(GeminiStreamParser);
    for (const provider of AGENT_PROVIDERS) expect(agentAdapterFor(provider).provider).toBe(provider);
    expect(agentAdapterFor('claude').buildInvocation(spec).args).toEqual(
      expect.arrayContaining(['--max-turns', '3', '--mcp-config', '/h/mcp.json']),
    );
    expect(agentAdapterFor('codex').buildInvocation(spec).args[0]).toBe('exec');
    expect(agentAdapterFor('gemini').buildInvocation(spec).args).toContain('--prompt=p');
  });

  it('should list the options a spec sets that its CLI ignores, with the reason', () => {
    expect(ignoredRunOptions(agentAdapterFor('claude'), spec)).toEqual([]);
    expect(ignoredRunOptions(agentAdapterFor('codex'), spec).map((ignored) => ignored.option)).toEqual([
      'maxTurns',
      'mcpConfigPath',
    ]);
    expect(ignoredRunOptions(agentAdapterFor('gemini'), spec)).toEqual([
      { option: 'appendSystemPrompt', reason: expect.stringContaining('GEMINI_SYSTEM_MD') },
      { option: 'mcpConfigPath', reason: expect.stringContaining('mcpServers') },
    ]);
  });
});
