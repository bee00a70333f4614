import { lstat, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface ClaudeHomeInput {
  // The run's config dir on the host (<home>/.claude): new and empty, made by the runner.
  configDir: string;
  // The workspace on the host (to see what the repository brings) and as the CLI sees it.
  workspace: string;
  workspaceSeenAs: string;
  // The profile's subagents and skills: name → Markdown.
  agents: Readonly<Record<string, string>>;
  skills: Readonly<Record<string, string>>;
  // The repository's own project settings are loaded (trustRepositorySettings): the CLI finds
  // its CLAUDE.md, skills and agents itself.
  repositoryLoaded: boolean;
}

// Project memory files Claude Code reads from a repository.
const MEMORY_FILES = ['CLAUDE.md', path.join('.claude', 'CLAUDE.md')];
// Folders of .claude whose entries are instructions, not configuration.
const INSTRUCTION_FOLDERS = ['agents', 'skills', 'commands'] as const;

// The run's home as the CLI reads it with --setting-sources user: the profile's subagents and
// skills as the user's, and what the repository brings that is instructions (CLAUDE.md, skills,
// agents, commands) reached from there, since the project source that would load them also
// loads the repository's hooks, permission rules and helper commands. Nothing is written into
// the workspace, and nothing the repository holds is followed here (entries are only listed;
// the links resolve inside the CLI's sandbox).
export async function prepareClaudeHome(input: ClaudeHomeInput): Promise<void> {
  await mkdir(input.configDir, { recursive: true });
  for (const [name, content] of Object.entries(input.agents))
    await writeNew(path.join(input.configDir, 'agents', `${name}.md`), content);
  for (const [name, content] of Object.entries(input.skills))
    await writeNew(path.join(input.configDir, 'skills', name, 'SKILL.md'), content);
  if (input.repositoryLoaded) return;

  // A .claude that is a link is not followed: the repository could point it anywhere on the host.
  const dotClaude = await isRealDirectory(path.join(input.workspace, '.claude'));
  const imports: string[] = [];
  for (const file of MEMORY_FILES)
    if ((dotClaude || !file.includes(path.sep)) && (await exists(path.join(input.workspace, file))))
      imports.push(`@${path.posix.join(input.workspaceSeenAs, file.split(path.sep).join('/'))}`);
  if (imports.length > 0) await writeNew(path.join(input.configDir, 'CLAUDE.md'), `${imports.join('\n')}\n`);

  for (const folder of dotClaude ? INSTRUCTION_FOLDERS : []) {
    const own = new Set(
      folder === 'agents'
        ? Object.keys(input.agents).map((name) => `${name}.md`)
        : folder === 'skills'
          ? Object.keys(input.skills)
          : [],
    );
    for (const entry of await listEntries(path.join(input.workspace, '.claude', folder))) {
      // The profile's own of the same name wins.
      if (own.has(entry)) continue;
      await mkdir(path.join(input.configDir, folder), { recursive: true });
      await symlink(
        path.posix.join(input.workspaceSeenAs, '.claude', folder, entry),
        path.join(input.configDir, folder, entry),
      );
    }
  }
}

async function writeNew(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // 'wx': the home is new; a file already there is not ours to overwrite.
  await writeFile(file, content, { flag: 'wx' });
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

async function isRealDirectory(dir: string): Promise<boolean> {
  try {
    return (await lstat(dir)).isDirectory();
  } catch {
    return false;
  }
}

async function listEntries(dir: string): Promise<string[]> {
  return (await isRealDirectory(dir)) ? readdir(dir) : [];
}
