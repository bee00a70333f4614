import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';

export const CLAUDE_PACKAGE = '@anthropic-ai/claude-code';

export class ClaudeBinaryNotFound extends Error {
  constructor(detail: string) {
    super(`Claude Code CLI not found: ${detail}`);
    this.name = 'ClaudeBinaryNotFound';
  }
}

// The npm package ships the native executable as its `claude` bin; resolving through the
// package (not PATH) pins the exact version this library was tested against.
export function resolveClaudeBinary(explicitPath?: string): string {
  if (explicitPath) return assertExecutable(path.resolve(explicitPath));
  let packageJsonPath: string;
  try {
    packageJsonPath = require.resolve(`${CLAUDE_PACKAGE}/package.json`);
  } catch {
    throw new ClaudeBinaryNotFound(`package ${CLAUDE_PACKAGE} is not installed`);
  }
  const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.['claude'];
  if (!bin) throw new ClaudeBinaryNotFound(`${packageJsonPath} declares no "claude" bin`);
  return assertExecutable(path.resolve(path.dirname(packageJsonPath), bin));
}

function assertExecutable(binaryPath: string): string {
  try {
    accessSync(binaryPath, constants.X_OK);
  } catch {
    throw new ClaudeBinaryNotFound(`${binaryPath} is missing or not executable`);
  }
  return binaryPath;
}
