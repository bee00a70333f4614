import { readFileSync } from 'node:fs';
import path from 'node:path';

export const GEMINI_PACKAGE = '@google/gemini-cli';

export class GeminiBinaryNotFound extends Error {
  constructor(detail: string) {
    super(`Gemini CLI not found: ${detail}`);
    this.name = 'GeminiBinaryNotFound';
  }
}

// @google/gemini-cli is one bundled ES module run by Node (>= 20), not a native binary.
export function resolveGeminiScript(explicitPath?: string): string {
  if (explicitPath) return path.resolve(explicitPath);
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${GEMINI_PACKAGE}/package.json`);
  } catch {
    throw new GeminiBinaryNotFound(`package ${GEMINI_PACKAGE} is not installed`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.['gemini'];
  if (!bin) throw new GeminiBinaryNotFound(`${manifestPath} declares no "gemini" bin`);
  return path.resolve(path.dirname(manifestPath), bin);
}
