import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
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
// lstat-s entries (no file is opened, no link followed), and stops past `maxEntries`. With the
// synchronous calls: a fresh workspace's few dozen entries take ~0.2 ms so, against 4–12 ms as
// one awaited call after another on libuv's thread pool (this is on a warm task's way to its
// prompt); the most it can hold the event loop is `maxEntries` lstat-s, a few ms.
export function workspaceFingerprint(dir: string, options: { maxEntries?: number } = {}): string | null {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const hash = createHash('sha256');
  let entries = 0;
  const visit = (relative: string): boolean => {
    const absolute = path.join(dir, relative);
    const stat = lstatSync(absolute, { bigint: true });
    hash.update(`${relative}\0${stat.mode}\0${stat.size}\0${stat.ino}\0${stat.ctimeNs}\n`);
    if (!stat.isDirectory()) return true;
    const names = readdirSync(absolute).sort();
    entries += names.length;
    if (entries > maxEntries) return false;
    for (const name of names) if (!visit(path.join(relative, name))) return false;
    return true;
  };
  return visit('.') ? hash.digest('hex') : null;
}

// A fresh workspace is a few dozen entries (its .git); a small repository's clone, hundreds.
const DEFAULT_MAX_ENTRIES = 2000;
