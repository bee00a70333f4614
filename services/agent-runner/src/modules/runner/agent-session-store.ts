import { Injectable } from '@nestjs/common';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConversationRepository } from '@hangar/db';

// Claude Code resumes a session from its transcript file under the config dir
// (<CLAUDE_CONFIG_DIR>/projects/<slug of the cwd>/<session id>.jsonl). Runs get a fresh home,
// and the runner of the next turn may be another process or host, so the transcript lives in
// Postgres between turns: put back before a resume, stored again after every turn.
@Injectable()
export class AgentSessionStore {
  constructor(private readonly conversations: ConversationRepository) {}

  // Returns the session id to resume, or undefined on a conversation's first turn.
  async restore(conversationId: string, configDir: string): Promise<string | undefined> {
    const session = await this.conversations.loadSession(conversationId);
    if (!session) return undefined;
    const file = path.resolve(configDir, session.relativePath);
    if (!file.startsWith(path.resolve(configDir) + path.sep))
      throw new Error('stored transcript path leaves the config dir');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, session.transcript);
    return session.sessionId;
  }

  async save(conversationId: string, configDir: string, sessionId: string): Promise<boolean> {
    const projects = path.join(configDir, 'projects');
    let slugs: string[];
    try {
      slugs = await readdir(projects);
    } catch {
      return false;
    }
    for (const slug of slugs) {
      const relativePath = path.join('projects', slug, `${sessionId}.jsonl`);
      try {
        const transcript = await readFile(path.join(configDir, relativePath));
        await this.conversations.saveSession(conversationId, { sessionId, relativePath, transcript });
        return true;
      } catch {
        // not in this project folder
      }
    }
    return false;
  }
}
