import { createRequire } from 'node:module';
import path from 'node:path';
import { isExecutable } from '../runtime/executable';

export const CODEX_PACKAGE = '@openai/codex';

export class CodexBinaryNotFound extends Error {
  constructor(detail: string) {
    super(`Codex CLI not found: ${detail}`);
    this.name = 'CodexBinaryNotFound';
  }
}

// @openai/codex ships a Node launcher (bin/codex.js) that execve()s a native, statically linked
// binary from an optional per-platform package; Hangar runs that binary directly.
const CODEX_TARGETS: Readonly<Record<string, { packageName: string; triple: string }>> = {
  'linux-x64': { packageName: '@openai/codex-linux-x64', triple: 'x86_64-unknown-linux-musl' },
  'linux-arm64': { packageName: '@openai/codex-linux-arm64', triple: 'aarch64-unknown-linux-musl' },
  'darwin-x64': { packageName: '@openai/codex-darwin-x64', triple: 'x86_64-apple-darwin' },
  'darwin-arm64': { packageName: '@openai/codex-darwin-arm64', triple: 'aarch64-apple-darwin' },
};

export function resolveCodexBinary(explicitPath?: string): string {
  if (explicitPath) return assertExecutable(path.resolve(explicitPath));
  const target = CODEX_TARGETS[`${process.platform}-${process.arch}`];
  if (!target) throw new CodexBinaryNotFound(`no native build for ${process.platform}-${process.arch}`);
  let launcherManifest: string;
  try {
    launcherManifest = require.resolve(`${CODEX_PACKAGE}/package.json`);
  } catch {
    throw new CodexBinaryNotFound(`package ${CODEX_PACKAGE} is not installed`);
  }
  let platformManifest: string;
  try {
    platformManifest = createRequire(launcherManifest).resolve(`${target.packageName}/package.json`);
  } catch {
    throw new CodexBinaryNotFound(`optional dependency ${target.packageName} is not installed`);
  }
  return assertExecutable(path.join(path.dirname(platformManifest), 'vendor', target.triple, 'bin', 'codex'));
}

function assertExecutable(binaryPath: string): string {
  if (!isExecutable(binaryPath)) throw new CodexBinaryNotFound(`${binaryPath} is missing or not executable`);
  return binaryPath;
}
