import { Injectable } from '@nestjs/common';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { listWithin, readFileWithin } from '@hangar/sandbox';
import type { ClaimedAttempt } from '../attempts/attempt-backend';

// Claude Code resumes a session from its transcript file under the config dir
// (<CLAUDE_CONFIG_DIR>/projects/<slug of the cwd>/<session id>.jsonl). Runs get a fresh home,
// and the runner of the next turn may be another process or host, so the transcript lives in
// Postgres between turns (through the attempt's backend): put back before a resume, stored again
// after every turn.
@Injectable()
export class AgentSessionStore {
  // Returns the session id to resume, or undefined on a conversation's first turn (or outside one).
  async restore(attempt: ClaimedAttempt, configDir: string): Promise<string | undefined> {
    if (!attempt.task.conversationId) return undefined;
    const session = await attempt.loadSession();
    if (!session) return undefined;
    const file = path.resolve(configDir, session.relativePath);
    if (!file.startsWith(path.resolve(configDir) + path.sep))
      throw new Error('stored transcript path leaves the config dir');
    await mkdir(path.dirname(file), { recursive: true });
    // The home is new: 'wx' refuses to write through anything already there.
    await writeFile(file, session.transcript, { flag: 'wx' });
    return session.sessionId;
  }

  // The agent could write its whole home: the transcript is read without following a link, so
  // a planted one cannot make the runner store (and hand back next turn) a file of its own.
  async save(attempt: ClaimedAttempt, configDir: string, sessionId: string): Promise<boolean> {
    for (const slug of await listWithin(configDir, 'projects').catch(() => [])) {
      const relativePath = path.join('projects', slug, `${sessionId}.jsonl`);
      let transcript: Buffer;
      try {
        transcript = await readFileWithin(configDir, relativePath);
      } catch {
        // not in this project folder, or not a plain file
        continue;
      }
      await attempt.saveSession({ sessionId, relativePath, transcript });
      return true;
    }
    return false;
  }
}
