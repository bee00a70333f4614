import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AgentProfile } from '@hangar/contracts';

// Puts a profile's subagents and skills where Claude Code looks for them in the workspace
// (.claude/agents/<name>.md, .claude/skills/<name>/SKILL.md). In a git workspace they are
// listed in .git/info/exclude, so they never show up in the task's diff.
export async function placeProfileFiles(workspace: string, profile: AgentProfile): Promise<string[]> {
  const written: string[] = [];
  for (const [name, content] of Object.entries(profile.agents)) {
    written.push(await writeInside(workspace, path.join('.claude', 'agents', `${name}.md`), content));
  }
  for (const [name, content] of Object.entries(profile.skills)) {
    written.push(await writeInside(workspace, path.join('.claude', 'skills', name, 'SKILL.md'), content));
  }
  const exclude = path.join(workspace, '.git', 'info', 'exclude');
  if (written.length > 0 && existsSync(path.dirname(exclude))) {
    const lines = written.map((file) => '/' + path.relative(workspace, file).split(path.sep).join('/'));
    await appendFile(exclude, `\n# placed by Hangar from the agent profile\n${lines.join('\n')}\n`);
  }
  return written;
}

// The per-run --mcp-config file, in the run's own home (not the workspace: it may hold secrets).
export async function writeMcpConfig(homeDir: string, profile: AgentProfile): Promise<string | undefined> {
  if (Object.keys(profile.mcpServers).length === 0) return undefined;
  const file = path.join(homeDir, 'mcp-config.json');
  await writeFile(file, JSON.stringify({ mcpServers: profile.mcpServers }, null, 2), { mode: 0o600 });
  return file;
}

async function writeInside(root: string, relative: string, content: string): Promise<string> {
  // Names are validated by the profile schema; this keeps a bad one from escaping anyway.
  const file = path.resolve(root, relative);
  if (!file.startsWith(path.resolve(root) + path.sep))
    throw new Error(`refusing to write outside the workspace: ${relative}`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}
