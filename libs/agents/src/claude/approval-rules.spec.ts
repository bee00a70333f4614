import { claudeAskRules, matchApprovalRule, subcommands } from './approval-rules';

describe('approval rules', () => {
  const workspaces = ['/workspace', '/var/lib/hangar/workspaces/t1'];
  const match = (patterns: string[], tool: string, input: Record<string, unknown>) =>
    matchApprovalRule(patterns, { tool, input }, workspaces);

  it('writes path patterns as Claude Code reads them: Edit or Read rules, // for an absolute path', () => {
    expect(
      claudeAskRules([
        'Bash(git push:*)',
        'Write(/etc/**)',
        'Edit(src/**)',
        'MultiEdit(/etc/**)',
        'Read(//secrets/*)',
        'mcp__github',
        'WebFetch(domain:example.com)',
      ]),
    ).toEqual([
      'Bash(git push:*)',
      'Edit(//etc/**)',
      'Edit(src/**)',
      'Read(//secrets/*)',
      'mcp__github',
      'WebFetch(domain:example.com)',
    ]);
  });

  it('matches a Bash prefix in any simple command of the line, at a word boundary', () => {
    const patterns = ['Bash(git push:*)'];
    expect(match(patterns, 'Bash', { command: 'git push origin main' })).toBe('Bash(git push:*)');
    expect(match(patterns, 'Bash', { command: 'git push' })).toBe('Bash(git push:*)');
    expect(match(patterns, 'Bash', { command: 'cd repo && git push ../o.git HEAD' })).toBe(
      'Bash(git push:*)',
    );
    expect(match(patterns, 'Bash', { command: 'echo "git push" ; ls' })).toBeUndefined();
    expect(match(patterns, 'Bash', { command: 'git pushx' })).toBeUndefined();
    expect(match(patterns, 'Bash', { command: 'FOO=1 git push -f' })).toBe('Bash(git push:*)');
    expect(match(patterns, 'Bash', { command: 'true | git push' })).toBe('Bash(git push:*)');
    expect(match(patterns, 'Write', { file_path: '/workspace/a' })).toBeUndefined();
  });

  it('matches Bash wildcards and exact commands', () => {
    expect(match(['Bash(rm *)'], 'Bash', { command: 'rm -rf /' })).toBe('Bash(rm *)');
    expect(match(['Bash(rm *)'], 'Bash', { command: 'rm' })).toBe('Bash(rm *)');
    expect(match(['Bash(rm *)'], 'Bash', { command: 'rmdir x' })).toBeUndefined();
    expect(match(['Bash(npm publish)'], 'Bash', { command: 'npm publish' })).toBe('Bash(npm publish)');
    expect(match(['Bash(npm publish)'], 'Bash', { command: 'npm publish --tag x' })).toBeUndefined();
    expect(match(['Bash'], 'Bash', { command: 'ls' })).toBe('Bash');
  });

  it('matches file tools by path: absolute, or in the workspace as the agent sees it', () => {
    expect(match(['Write(/etc/**)'], 'Write', { file_path: '/etc/passwd' })).toBe('Write(/etc/**)');
    expect(match(['Write(/etc/**)'], 'Edit', { file_path: '/etc/hosts' })).toBe('Write(/etc/**)');
    expect(match(['Write(/etc/**)'], 'Write', { file_path: '/workspace/etc/x' })).toBeUndefined();
    expect(match(['Edit(src/**)'], 'Write', { file_path: '/workspace/src/a/b.ts' })).toBe('Edit(src/**)');
    expect(match(['Edit(src/**)'], 'Write', { file_path: 'src/main.ts' })).toBe('Edit(src/**)');
    expect(match(['Edit(*.env)'], 'Edit', { file_path: '/workspace/config/prod.env' })).toBe('Edit(*.env)');
    expect(match(['Edit(src/**)'], 'Write', { file_path: '/tmp/src/a.ts' })).toBeUndefined();
    expect(match(['Read(/secrets/**)'], 'Read', { file_path: '/secrets/key' })).toBe('Read(/secrets/**)');
    expect(match(['Read(/secrets/**)'], 'Write', { file_path: '/secrets/key' })).toBeUndefined();
    expect(match(['NotebookEdit'], 'NotebookEdit', { notebook_path: '/workspace/a.ipynb' })).toBe(
      'NotebookEdit',
    );
  });

  it('matches an MCP server by its tools, and WebFetch by host', () => {
    expect(match(['mcp__github'], 'mcp__github__create_issue', {})).toBe('mcp__github');
    expect(match(['mcp__github__*'], 'mcp__github__create_issue', {})).toBe('mcp__github__*');
    expect(match(['mcp__github'], 'mcp__githubber__x', {})).toBeUndefined();
    expect(match(['mcp__github__merge'], 'mcp__github__merge', {})).toBe('mcp__github__merge');
    expect(match(['mcp__github__merge'], 'mcp__github__create_issue', {})).toBeUndefined();
    expect(match(['WebFetch(domain:*.example.com)'], 'WebFetch', { url: 'https://api.example.com/x' })).toBe(
      'WebFetch(domain:*.example.com)',
    );
    expect(
      match(['WebFetch(domain:example.com)'], 'WebFetch', { url: 'https://evil.test/' }),
    ).toBeUndefined();
    expect(match(['WebFetch(domain:example.com)'], 'WebFetch', { url: 'not a url' })).toBeUndefined();
  });

  it('splits a shell line into its simple commands', () => {
    expect(subcommands('cd a && git push; echo "x && y" | wc -l')).toEqual([
      'cd a',
      'git push',
      'echo x && y',
      'wc -l',
    ]);
  });
});
