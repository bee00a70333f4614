import path from 'node:path';
import picomatch from 'picomatch';
import { parse as parseShell } from 'shell-quote';
import { APPROVAL_PATH_TOOLS } from '@hangar/contracts';

// A profile's approval patterns (docs/governance.md) in two places: as Claude Code's
// `permissions.ask` rules, so that the CLI asks its permission prompt tool before such a call
// (whatever the permission mode and allow rules say), and matched again by that tool, which is
// asked for every call the CLI would prompt for: a call no pattern matches is refused as the CLI
// refuses it headless, and only a matched one waits for a person.

// The file tools Claude Code's `Edit(...)` rules cover.
const EDIT_TOOLS = ['Edit', 'Write', 'MultiEdit', 'NotebookEdit'];
// The tools Claude Code's `Read(...)` rules cover (its searches, best effort).
const READ_TOOLS = ['Read', 'Grep', 'Glob', 'LS'];

interface Pattern {
  tool: string;
  specifier: string | undefined;
}

function parsePattern(pattern: string): Pattern {
  const match = /^([A-Za-z][\w-]*)(?:\((.+)\))?$/s.exec(pattern);
  return { tool: match?.[1] ?? pattern, specifier: match?.[2] };
}

const isPathTool = (tool: string): boolean => (APPROVAL_PATH_TOOLS as readonly string[]).includes(tool);

// Claude Code's rules for the patterns. Its path rules are `Edit(...)` (every tool that edits)
// and `Read(...)`, with `//` starting an absolute path; Hangar's patterns write an absolute path
// with one `/` and may name Write, MultiEdit or NotebookEdit.
export function claudeAskRules(patterns: readonly string[]): string[] {
  const rules = patterns.map((pattern) => {
    const { tool, specifier } = parsePattern(pattern);
    if (specifier === undefined || !isPathTool(tool)) return pattern;
    const glob = specifier.startsWith('/') && !specifier.startsWith('//') ? `/${specifier}` : specifier;
    return `${tool === 'Read' ? 'Read' : 'Edit'}(${glob})`;
  });
  return [...new Set(rules)];
}

export interface ToolCall {
  tool: string;
  input: Record<string, unknown>;
}

// The first pattern the call matches, or undefined. `workspaces`: where the agent's workspace is,
// as it may see it (a relative path pattern is in the workspace).
export function matchApprovalRule(
  patterns: readonly string[],
  call: ToolCall,
  workspaces: readonly string[],
): string | undefined {
  return patterns.find((pattern) => matches(parsePattern(pattern), call, workspaces));
}

function matches({ tool, specifier }: Pattern, call: ToolCall, workspaces: readonly string[]): boolean {
  if (tool.startsWith('mcp__')) {
    // A server's name covers each of its tools; `mcp__server__*` is the same.
    const name = tool.endsWith('__*') ? tool.slice(0, -1) : tool;
    return call.tool === name || call.tool.startsWith(`${name.replace(/__$/, '')}__`);
  }
  if (isPathTool(tool)) {
    const family = tool === 'Read' ? READ_TOOLS : EDIT_TOOLS;
    if (!family.includes(call.tool) && call.tool !== tool) return false;
    if (specifier === undefined) return true;
    const file = filePathOf(call.input);
    return file !== undefined && pathMatches(specifier, file, workspaces);
  }
  if (call.tool !== tool) return false;
  if (specifier === undefined) return true;
  if (tool === 'Bash') {
    const command = typeof call.input['command'] === 'string' ? call.input['command'] : '';
    return subcommands(command).some((part) => commandMatches(specifier, part));
  }
  if (tool === 'WebFetch') {
    const host = hostOf(call.input['url']);
    const domain = specifier.replace(/^domain:/, '');
    return host !== undefined && picomatch.isMatch(host, domain, { nocase: true });
  }
  return false;
}

function filePathOf(input: Record<string, unknown>): string | undefined {
  for (const key of ['file_path', 'notebook_path', 'path']) {
    const value = input[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

// `/etc/**` is absolute (`//etc/**`, Claude Code's spelling, too); anything else is in the
// workspace, gitignore-like: a pattern without a slash matches at any depth.
function pathMatches(glob: string, file: string, workspaces: readonly string[]): boolean {
  const absolute = glob.startsWith('/');
  const pattern = absolute ? `/${glob.replace(/^\/+/, '')}` : glob.replace(/^\.\//, '');
  const options = { dot: true, basename: !absolute && !pattern.includes('/') };
  if (absolute) return picomatch.isMatch(path.posix.normalize(file), pattern, options);
  return workspaces.some((workspace) => {
    const relative = path.posix.relative(workspace, path.posix.resolve(workspace, file));
    return !relative.startsWith('..') && picomatch.isMatch(relative, pattern, options);
  });
}

function hostOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

// Each simple command of a shell line (split at ;, &&, ||, |, & and newlines), its words joined
// by single spaces. shell-quote tokenizes; a line it cannot read counts as one command.
export function subcommands(line: string): string[] {
  let tokens: ReturnType<typeof parseShell>;
  try {
    tokens = parseShell(line, (name) => `$${name}`);
  } catch {
    return [line.trim()];
  }
  const commands: string[][] = [[]];
  for (const token of tokens) {
    if (typeof token === 'string') commands.at(-1)!.push(token);
    else if ('op' in token && token.op !== 'glob') {
      if (['(', ')', '<', '>', '>>', '>&', '<(', '<&'].includes(token.op)) continue;
      commands.push([]);
    } else if ('pattern' in token) commands.at(-1)!.push(token.pattern);
  }
  // `cd dir && git push`, `FOO=1 git push`: assignments before the command are not its words.
  return commands
    .map((words) => words.filter((word, index) => !(index === 0 && /^\w+=/.test(word))))
    .map((words) => words.join(' '))
    .filter((command) => command !== '');
}

// Claude Code's Bash specifiers: `prefix:*` (the prefix, then nothing or a space and more), a
// pattern with `*` (any characters, spaces included), or the exact command.
function commandMatches(specifier: string, command: string): boolean {
  if (specifier.endsWith(':*')) {
    const prefix = specifier.slice(0, -2);
    return command === prefix || command.startsWith(`${prefix} `);
  }
  if (specifier.includes('*')) {
    const source = specifier
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    // A trailing ` *` also matches the command alone, as the CLI's does.
    const loose = source.endsWith(' .*') ? `${source.slice(0, -3)}( .*)?` : source;
    return new RegExp(`^${loose}$`, 's').test(command);
  }
  return command === specifier;
}
