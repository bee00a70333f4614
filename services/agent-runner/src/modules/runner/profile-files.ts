import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentProfile } from '@hangar/contracts';

export const MCP_CONFIG_FILE = 'mcp-config.json';

// The per-run --mcp-config file, in the run's own home (not the workspace: it may hold secrets).
// The home is new for every attempt: 'wx' refuses to write through anything already there.
// (The profile's subagents and skills go to the home too: prepareClaudeHome in @hangar/agents.)
export async function writeMcpConfig(homeDir: string, profile: AgentProfile): Promise<string | undefined> {
  if (Object.keys(profile.mcpServers).length === 0) return undefined;
  const file = path.join(homeDir, MCP_CONFIG_FILE);
  await writeFile(file, JSON.stringify({ mcpServers: profile.mcpServers }, null, 2), {
    mode: 0o600,
    flag: 'wx',
  });
  return file;
}
