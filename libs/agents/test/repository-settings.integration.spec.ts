import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AgentProvider, type ScriptedModel, startScriptedModel } from '../src';
import { AgentRunner, only } from './support/agent-runs';
import { RecordingRelay } from './support/recording-relay';

// Each CLI inside Hangar's sandbox, in a repository that brings configuration of its own: hooks
// and MCP servers that would run before the model says a word. A repository brings code and
// instructions; what runs comes from the profile, unless the profile trusts the repository.
jest.setTimeout(90_000);

// What each hook or MCP server of the repository does when it runs: leave a mark in the
// workspace (the only place a sandboxed command can write that the host sees) and try one
// outside it.
function marks(outside: string) {
  return (name: string) => `echo ran > /workspace/${name}-ran; echo ran > ${outside}/${name}-ran`;
}

describe('repository settings inside the sandbox', () => {
  let model: ScriptedModel;
  let relay: RecordingRelay;
  let rootDir: string;
  let outside: string;
  const runners = new Map<AgentProvider, AgentRunner>();

  beforeAll(async () => {
    rootDir = mkdtempSync(path.join(tmpdir(), 'hangar-repo-settings-'));
    outside = path.join(rootDir, 'outside');
    model = await startScriptedModel({ port: 0 });
    relay = new RecordingRelay(path.join(rootDir, 'model.sock'), () => model.url);
    await relay.start();
    for (const provider of ['claude', 'codex', 'gemini'] as const)
      runners.set(provider, new AgentRunner(provider, rootDir, relay.socketPath));
  });

  afterEach(async () => {
    for (const runner of runners.values()) await runner.stopAll();
  });

  afterAll(async () => {
    await relay.stop();
    await model.close();
    rmSync(rootDir, { recursive: true, force: true });
  });

  const run = (provider: AgentProvider, ...args: Parameters<AgentRunner['run']>) =>
    runners.get(provider)!.run(...args);

  describe('Claude Code', () => {
    const mark = () => marks(outside);
    const repository = () => ({
      '.claude/settings.json': JSON.stringify({
        hooks: { SessionStart: [{ hooks: [{ type: 'command', command: mark()('hook') }] }] },
        enableAllProjectMcpServers: true,
        env: { HANGAR_PLANTED: 'from the repository' },
      }),
      '.mcp.json': JSON.stringify({
        mcpServers: { planted: { command: 'sh', args: ['-c', `${mark()('mcp')}; sleep 5`] } },
      }),
      'CLAUDE.md': 'The codeword of this repository is PAPAYA-MEMO.\n',
      '.claude/skills/greet/SKILL.md': '---\nname: greet\ndescription: Greets people\n---\nSay hello.\n',
      '.claude/agents/helper-x.md': '---\nname: helper-x\ndescription: Helps\n---\nYou help.\n',
    });

    it('should run no hook or MCP server of the repository, yet read its CLAUDE.md, skills and agents', async () => {
      const { exit, events, workDir } = await run('claude', 'reply', {
        files: repository(),
        profile: { agents: { 'profile-agent': '---\nname: profile-agent\ndescription: Ours\n---\nHi.\n' } },
      });
      expect(exit.exitCode).toBe(0);
      expect(existsSync(path.join(workDir, 'hook-ran'))).toBe(false);
      expect(existsSync(path.join(workDir, 'mcp-ran'))).toBe(false);
      const init = only(events, 'system.init')[0]!;
      expect(init.data.tools.some((tool) => tool.startsWith('mcp__planted'))).toBe(false);
      expect(relay.sent('PAPAYA-MEMO')).toBe(true);
      expect(relay.sent('helper-x')).toBe(true);
      expect(relay.sent('profile-agent')).toBe(true);
      expect(relay.sent('Greets people')).toBe(true);
    });

    it('should run the repository hook inside the sandbox only when the profile trusts repository settings', async () => {
      const { exit, workDir } = await run('claude', 'reply', {
        files: repository(),
        spec: { trustRepositorySettings: true },
      });
      expect(exit.exitCode).toBe(0);
      expect(readFileSync(path.join(workDir, 'hook-ran'), 'utf8')).toBe('ran\n');
      expect(existsSync(path.join(outside, 'hook-ran'))).toBe(false);
    });

    it('should run Bash commands in the workspace inside the sandbox', async () => {
      const { exit, events, workDir } = await run('claude', 'bash');
      expect(exit.exitCode).toBe(0);
      expect(readFileSync(path.join(workDir, 'bash-output.txt'), 'utf8')).toBe('hangar\n');
      expect(only(events, 'tool.result').every((event) => !event.data.isError)).toBe(true);
    });
  });

  it("should not load the repository's .codex config, hooks or MCP servers, yet read its AGENTS.md (Codex)", async () => {
    const mark = marks(outside);
    const { exit, workDir } = await run('codex', 'reply', {
      files: {
        '.codex/config.toml': [
          `notify = ["sh", "-c", ${JSON.stringify(mark('notify'))}]`,
          '[mcp_servers.planted]',
          'command = "sh"',
          `args = ["-c", ${JSON.stringify(`${mark('mcp')}; sleep 5`)}]`,
        ].join('\n'),
        '.codex/hooks.json': JSON.stringify({
          hooks: { SessionStart: [{ hooks: [{ type: 'command', command: mark('hook') }] }] },
        }),
        'AGENTS.md': 'The codeword of this repository is KIWI-AGENTS.\n',
      },
    });
    expect(exit.exitCode).toBe(0);
    for (const name of ['notify', 'mcp', 'hook'])
      expect(existsSync(path.join(workDir, `${name}-ran`))).toBe(false);
    expect(relay.sent('KIWI-AGENTS')).toBe(true);
  });

  it("should not load the repository's .gemini settings, hooks or MCP servers, yet read its GEMINI.md (Gemini)", async () => {
    const mark = marks(outside);
    const { exit, workDir } = await run('gemini', 'reply', {
      files: {
        '.gemini/settings.json': JSON.stringify({
          hooks: { SessionStart: [{ hooks: [{ type: 'command', command: mark('hook') }] }] },
          mcpServers: { planted: { command: 'sh', args: ['-c', `${mark('mcp')}; sleep 5`] } },
        }),
        'GEMINI.md': 'The codeword of this repository is FIG-GEMINI.\n',
      },
    });
    expect(exit.exitCode).toBe(0);
    for (const name of ['mcp', 'hook']) expect(existsSync(path.join(workDir, `${name}-ran`))).toBe(false);
    expect(relay.sent('FIG-GEMINI')).toBe(true);
    // The repository's own files are left as they were.
    expect(readFileSync(path.join(workDir, '.gemini', 'settings.json'), 'utf8')).toContain('planted');
  });
});
