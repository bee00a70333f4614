import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';

export class UnsafeAgentPath extends Error {
  constructor(relative: string, why: string) {
    super(`refusing ${relative}: ${why}`);
    this.name = 'UnsafeAgentPath';
  }
}

// What an agent left in a folder it could write (its home, its workspace), read by the runner
// outside the sandbox: no component may be a link, so nothing the agent planted leads the runner
// to a file of its own (its environment, its credentials, another task's workspace).
export async function readFileWithin(root: string, relative: string): Promise<Buffer> {
  const file = await checkedPath(root, relative);
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (!(await handle.stat()).isFile()) throw new UnsafeAgentPath(relative, 'not a regular file');
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

// The entries of a folder under root, when it and every folder above it (up to root) are real
// folders; empty when it does not exist.
export async function listWithin(root: string, relative: string): Promise<string[]> {
  try {
    return await readdir(await checkedPath(root, relative, 'directory'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function checkedPath(
  root: string,
  relative: string,
  last: 'file' | 'directory' = 'file',
): Promise<string> {
  const parts = path.normalize(relative).split(path.sep).filter(Boolean);
  if (parts.length === 0 || parts.includes('..') || path.isAbsolute(relative))
    throw new UnsafeAgentPath(relative, `not a path inside ${root}`);
  let current = root;
  for (const [index, part] of parts.entries()) {
    current = path.join(current, part);
    const stat = await lstat(current);
    if (stat.isSymbolicLink()) throw new UnsafeAgentPath(relative, `${part} is a link`);
    const isLast = index === parts.length - 1;
    if ((!isLast || last === 'directory') && !stat.isDirectory())
      throw new UnsafeAgentPath(relative, `${part} is not a folder`);
  }
  return current;
}
