import { accessSync, constants, readdirSync } from 'node:fs';
import path from 'node:path';

// Where to look for server binaries; tests point it at empty places to see the "not installed" path.
export interface BinarySearch {
  path: string;
  extraDirs: string[];
  postgresLibDir: string;
}

export function defaultBinarySearch(searchPath: string): BinarySearch {
  return {
    path: searchPath,
    // Debian puts server daemons in sbin, which a non-login root shell may not have on PATH.
    extraDirs: ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    postgresLibDir: '/usr/lib/postgresql',
  };
}

export function findExecutable(name: string, search: BinarySearch): string | undefined {
  const dirs = [...search.path.split(path.delimiter).filter((dir) => dir !== ''), ...search.extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

// Debian installs each PostgreSQL major under /usr/lib/postgresql/<major>/bin, off PATH;
// the newest one wins. Otherwise initdb and pg_ctl must be found together.
export function findPostgresBinDir(search: BinarySearch): string | undefined {
  let majors: string[];
  try {
    majors = readdirSync(search.postgresLibDir).filter((entry) => /^\d+(\.\d+)?$/.test(entry));
  } catch {
    majors = [];
  }
  majors.sort((left, right) => Number(right) - Number(left));
  for (const major of majors) {
    const binDir = path.join(search.postgresLibDir, major, 'bin');
    if (isExecutable(path.join(binDir, 'initdb')) && isExecutable(path.join(binDir, 'pg_ctl'))) return binDir;
  }
  const initdb = findExecutable('initdb', search);
  if (initdb && isExecutable(path.join(path.dirname(initdb), 'pg_ctl'))) return path.dirname(initdb);
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
