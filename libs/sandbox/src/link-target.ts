import { lstatSync, readlinkSync } from 'node:fs';

// The text of the link at `file`; undefined when it is no link (or is missing).
export function linkTarget(file: string): string | undefined {
  try {
    return lstatSync(file).isSymbolicLink() ? readlinkSync(file) : undefined;
  } catch {
    return undefined;
  }
}
