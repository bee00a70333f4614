import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import type { CliContext } from './cli-context';
import { registerApprovalCommands } from './commands/approvals.commands';
import { registerDepsCommand } from './commands/deps.command';
import { registerRunCommand } from './commands/run.command';
import { registerTaskCommands } from './commands/task.commands';
import { registerUpCommand } from './commands/up.command';
import { registerWorkflowCommands } from './commands/workflow.commands';

export function createProgram(context: CliContext, setExitCode: (code: number) => void): Command {
  const program = new Command('hangar')
    .description('Hangar: run coding agents as isolated, observable tasks')
    .version(packageVersion(), '-v, --version')
    // `hangar workflow run x --version 2` is the run's option, not the program's.
    .enablePositionalOptions()
    .showHelpAfterError('(hangar --help lists the commands)')
    .configureOutput({
      writeOut: (text) => context.io.out(text.replace(/\n$/, '')),
      writeErr: (text) => context.io.err(text.replace(/\n$/, '')),
    })
    .exitOverride();
  registerUpCommand(program, context, setExitCode);
  registerDepsCommand(program, context, setExitCode);
  registerRunCommand(program, context, setExitCode);
  registerTaskCommands(program, context, setExitCode);
  registerWorkflowCommands(program, context, setExitCode);
  registerApprovalCommands(program, context, setExitCode);
  for (const command of program.commands) command.exitOverride();
  return program;
}

// Resolves to the exit code; never calls process.exit, so tests can run commands in-process.
export async function runCli(args: string[], context: CliContext): Promise<number> {
  let exitCode = 0;
  const program = createProgram(context, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
  return exitCode;
}

function packageVersion(): string {
  try {
    const manifest: unknown = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    const version = (manifest as { version?: unknown }).version;
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
