import { createHash } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

// What a workspace's tree is, as a hash of every entry's path, type and mode, size, inode and
// change time (ctime), or null when it holds more than `maxEntries` entries (walking it would
// cost about what git does). Two equal fingerprints of a folder mean nothing in it was written,
// created, removed, renamed or chmod-ed in between: a process can set a file's mtime back
// (utimensat) but not its ctime, which the kernel sets at every such change. The kernel's
// clock for it ticks every few ms: take the fingerprint before whatever may write starts (an
// agent's CLI takes hundreds of ms to), not in the same instant as its writes.
//
// Walked by the runner outside any sandbox, over files an agent wrote: it only lists folders and
// lstat-s entries (no file is opened, no link followed), and stops past `maxEntries`.
export async function workspaceFingerprint(
  dir: string,
  options: { maxEntries?: number } = {},
): Promise<string | null> {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const hash = createHash('sha256');
  let entries = 0;
  const visit = async (relative: string): Promise<boolean> => {
    const absolute = path.join(dir, relative);
    const stat = await lstat(absolute, { bigint: true });
    hash.update(`${relative}\0${stat.mode}\0${stat.size}\0${stat.ino}\0${stat.ctimeNs}\n`);
    if (!stat.isDirectory()) return true;
    const names = (await readdir(absolute)).sort();
    entries += names.length;
    if (entries > maxEntries) return false;
    for (const name of names) if (!(await visit(path.join(relative, name)))) return false;
    return true;
  };
  return (await visit('.')) ? hash.digest('hex') : null;
}

// A fresh workspace is a few dozen entries (its .git); a small repository's clone, hundreds.
const DEFAULT_MAX_ENTRIES = 2000;
