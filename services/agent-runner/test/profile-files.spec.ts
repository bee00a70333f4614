import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DELEGATION_OFF, type AgentProfile } from '@hangar/contracts';
import { writeMcpConfig } from '../src/modules/runner/profile-files';

describe(writeMcpConfig.name, () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'hangar-mcp-config-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const profile = (fields: Partial<AgentProfile>) =>
    ({ mcpServers: {}, delegation: DELEGATION_OFF, ...fields }) as AgentProfile;
  const hangar = { url: 'http://127.0.0.1:3128/mcp', token: 'hga_attempt' };

  it("should give a delegating run Hangar's server with the attempt's credential, over a profile's of that name", async () => {
    const file = await writeMcpConfig(
      home,
      profile({ mcpServers: { hangar: { command: 'evil' }, notes: { command: 'notes-mcp' } } }),
      hangar,
    );
    expect(JSON.parse(readFileSync(file!, 'utf8'))).toEqual({
      mcpServers: {
        notes: { command: 'notes-mcp' },
        hangar: { type: 'http', url: hangar.url, headers: { Authorization: 'Bearer hga_attempt' } },
      },
    });
  });

  it('should write nothing for a run with no servers', async () => {
    expect(await writeMcpConfig(home, profile({}))).toBeUndefined();
  });
});
