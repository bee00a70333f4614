import { TERMINAL_STATUSES } from '@hangar/contracts';
import type { Command } from 'commander';
import { gatewayClientFor } from '../api/gateway-client';
import { formatApiError } from '../api/problem-format';
import type { CliContext } from '../cli-context';
import { formatTaskDetails, formatTaskSummary } from '../render/task-summary';
import { addApiOptions, type SetExitCode } from './command-options';

interface TaskFlags {
  api?: string;
  json?: boolean;
}

export function registerTaskCommands(program: Command, context: CliContext, setExitCode: SetExitCode): void {
  addApiOptions(
    program
      .command('status')
      .description("show a task's status, result, cost and tokens")
      .argument('<id>', 'task id')
      .option('--json', 'print the task as JSON'),
  ).action(async (taskId: string, flags: TaskFlags) => {
    const { io } = context;
    try {
      const task = await gatewayClientFor(context, flags.api).getTask(taskId);
      if (flags.json) io.out(JSON.stringify(task, null, 2));
      else for (const line of formatTaskDetails(task, io.outPalette)) io.out(line);
      setExitCode(0);
    } catch (error) {
      for (const line of formatApiError(error, io.errPalette)) io.err(line);
      setExitCode(1);
    }
  });

  addApiOptions(
    program
      .command('cancel')
      .description('cancel a queued or running task')
      .argument('<id>', 'task id')
      .option('--json', 'print the task as JSON'),
  ).action(async (taskId: string, flags: TaskFlags) => {
    const { io } = context;
    try {
      const task = await gatewayClientFor(context, flags.api).cancelTask(taskId);
      if (flags.json) io.out(JSON.stringify(task, null, 2));
      else {
        for (const line of [
          `${io.outPalette.bold('task')} ${task.id}`,
          ...formatTaskSummary(task, io.outPalette),
        ])
          io.out(line);
        // The runner stops the agent asynchronously; the terminal status follows shortly.
        if (!TERMINAL_STATUSES.includes(task.status))
          io.out(io.outPalette.dim('cancel requested; the task stops shortly'));
      }
      setExitCode(0);
    } catch (error) {
      for (const line of formatApiError(error, io.errPalette)) io.err(line);
      setExitCode(1);
    }
  });
}
