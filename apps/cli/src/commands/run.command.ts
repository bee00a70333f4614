import type { TaskEvent, TaskStatus } from '@hangar/contracts';
import type { Command } from 'commander';
import { type GatewayClient, gatewayClientFor, type TaskView } from '../api/gateway-client';
import { formatApiError } from '../api/problem-format';
import { FollowAborted, followTaskEvents, SubscribeFailed } from '../api/task-event-stream';
import type { CliContext } from '../cli-context';
import { EventRenderer } from '../render/event-renderer';
import { formatTaskSummary } from '../render/task-summary';
import { addApiOptions, type SetExitCode, urlOption } from './command-options';
import { buildCreateTaskRequest } from './create-task-input';

interface RunCommandFlags {
  scenario?: string;
  profile?: string;
  timeout?: string;
  require?: string[];
  follow?: boolean;
  json?: boolean;
  api?: string;
  ws?: string;
}

export function registerRunCommand(program: Command, context: CliContext, setExitCode: SetExitCode): void {
  addApiOptions(
    program
      .command('run')
      .description('submit a task; with --follow, watch it live and exit 0 only when it completes')
      .argument('<prompt>', 'what the agent should do')
      .option(
        '-s, --scenario <name>',
        'scripted-model scenario (only when the stack runs the scripted model)',
      )
      .option('-p, --profile <name>', 'agent profile')
      .option('-t, --timeout <seconds>', 'stop the task after this many seconds')
      .option(
        '-r, --require <label>',
        'a label the runner must offer, e.g. gpu or region=eu (repeat for several; docs/routing.md)',
        (label: string, labels: string[] = []) => [...labels, label],
      )
      .option('-f, --follow', 'stream the events until the task ends')
      .option('--json', 'print JSON (with --follow: one event per line, then the task)'),
  )
    .option('--ws <url>', 'websocket-pool URL (default: $HANGAR_WS_URL or http://127.0.0.1:4006)', urlOption)
    .action(async (prompt: string, flags: RunCommandFlags) => {
      setExitCode(await runTask(prompt, flags, context));
    });

  addApiOptions(
    program
      .command('follow')
      .description('watch a task that already exists until it ends; exit 0 only when it completes')
      .argument('<id>', 'task id')
      .option('--json', 'print one event per line, then the task'),
  )
    .option('--ws <url>', 'websocket-pool URL (default: $HANGAR_WS_URL or http://127.0.0.1:4006)', urlOption)
    .action(async (taskId: string, flags: RunCommandFlags) => {
      const client = gatewayClientFor(context, flags.api);
      let task: TaskView;
      try {
        task = await client.getTask(taskId);
      } catch (error) {
        for (const line of formatApiError(error, context.io.errPalette)) context.io.err(line);
        setExitCode(1);
        return;
      }
      if (!flags.json) context.io.out(`${context.io.outPalette.bold('task')} ${task.id}`);
      setExitCode(await followToEnd(task, flags, context, client));
    });
}

async function runTask(prompt: string, flags: RunCommandFlags, context: CliContext): Promise<number> {
  const { io } = context;
  const input = buildCreateTaskRequest(prompt, flags);
  if (!input.ok) {
    for (const error of input.errors) io.err(`${io.errPalette.red('error:')} ${error}`);
    return 1;
  }
  const client = gatewayClientFor(context, flags.api);
  let task: TaskView;
  try {
    task = await client.createTask(input.request);
  } catch (error) {
    for (const line of formatApiError(error, io.errPalette)) io.err(line);
    return 1;
  }
  if (!flags.follow) {
    io.out(flags.json ? JSON.stringify(task, null, 2) : task.id);
    if (!flags.json)
      io.err(io.errPalette.dim(`${task.status.toLowerCase()}; watch it with: hangar follow ${task.id}`));
    return 0;
  }
  if (!flags.json) io.out(`${io.outPalette.bold('task')} ${task.id}`);
  return followToEnd(task, flags, context, client);
}

async function followToEnd(
  task: TaskView,
  flags: RunCommandFlags,
  context: CliContext,
  client: GatewayClient,
): Promise<number> {
  const { io, env } = context;
  const renderer = new EventRenderer({ palette: io.outPalette });
  const onEvent = (event: TaskEvent): void => {
    if (flags.json) io.out(JSON.stringify(event));
    else for (const line of renderer.render(event)) io.out(line);
  };
  let status: TaskStatus;
  try {
    ({ status } = await followTaskEvents({
      wsUrl: flags.ws ?? env.wsUrl,
      token: env.token,
      taskId: task.id,
      onEvent,
      onNotice: (message) => io.err(io.errPalette.dim(message)),
      signal: context.shutdownSignal(),
    }));
  } catch (error) {
    if (error instanceof FollowAborted) {
      io.err(`stopped following; task ${task.id} goes on (hangar cancel ${task.id} stops it)`);
      return 130;
    }
    const message = error instanceof SubscribeFailed ? `${error.message} (${error.code})` : String(error);
    io.err(`${io.errPalette.red('error:')} cannot follow task ${task.id}: ${message}`);
    return 1;
  }
  let final: TaskView = { ...task, status };
  try {
    final = await client.getTask(task.id);
  } catch (error) {
    for (const line of formatApiError(error, io.errPalette)) io.err(line);
  }
  if (flags.json) io.out(JSON.stringify(final));
  else for (const line of formatTaskSummary(final, io.outPalette)) io.out(line);
  return final.status === 'COMPLETED' ? 0 : 1;
}
