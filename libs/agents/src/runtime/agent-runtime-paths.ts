import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { AgentProvider } from '../agent-provider';
import { resolveClaudeBinary } from '../claude/claude-binary';
import { resolveCodexBinary } from '../codex/codex-binary';
import { resolveGeminiScript } from '../gemini/gemini-binary';

// The host folders a CLI needs besides the system's (/usr …), to be mounted read-only into a
// sandbox at the same paths: its own package, and Node for the CLIs Node runs.
export function agentRuntimePaths(provider: AgentProvider, binaryPath?: string): string[] {
  switch (provider) {
    case 'claude':
      return [packageRoot(resolveClaudeBinary(binaryPath))];
    case 'codex':
      return [packageRoot(resolveCodexBinary(binaryPath))];
    case 'gemini':
      return [packageRoot(resolveGeminiScript(binaryPath)), ...nodeInstall()];
  }
}

// The nearest folder above a file with a package.json (the CLI's package), else its own folder.
function packageRoot(file: string): string {
  const real = realpathSync(file);
  for (let dir = path.dirname(real); dir !== path.dirname(dir); dir = path.dirname(dir))
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  return path.dirname(real);
}

// Node outside /usr (nvm, a tarball in /opt): its install folder (…/bin/node → …).
function nodeInstall(): string[] {
  const node = realpathSync(process.execPath);
  return node.startsWith('/usr/') ? [] : [path.dirname(path.dirname(node))];
}
