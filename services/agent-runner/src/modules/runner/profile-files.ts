import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HANGAR_MCP_SERVER, type AgentProfile, type McpServer } from '@hangar/contracts';

export const MCP_CONFIG_FILE = 'mcp-config.json';

// The per-run --mcp-config file, in the run's own home (not the workspace: it may hold secrets).
// The home is new for every attempt: 'wx' refuses to write through anything already there.
// (The profile's subagents and skills go to the home too: prepareClaudeHome in @hangar/agents.)
export async function writeMcpConfig(
  homeDir: string,
  profile: AgentProfile,
  hangar?: { url: string; token: string },
): Promise<string | undefined> {
  const servers: Record<string, McpServer> = { ...profile.mcpServers };
  // A run whose profile delegates gets Hangar's own server, reached with the attempt's
  // credential (its name is Hangar's: a profile's own server of that name gives way).
  if (hangar)
    servers[HANGAR_MCP_SERVER] = {
      type: 'http',
      url: hangar.url,
      headers: { Authorization: `Bearer ${hangar.token}` },
    };
  if (Object.keys(servers).length === 0) return undefined;
  const file = path.join(homeDir, MCP_CONFIG_FILE);
  await writeFile(file, JSON.stringify({ mcpServers: servers }, null, 2), {
    mode: 0o600,
    flag: 'wx',
  });
  return file;
}
