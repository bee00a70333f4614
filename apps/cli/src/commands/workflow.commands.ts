import { setTimeout as sleep } from 'node:timers/promises';
import type { Workflow, WorkflowDefinition, WorkflowRun, WorkflowRunStatus } from '@hangar/contracts';
import { type Command, InvalidArgumentError } from 'commander';
import { ApiError, type GatewayClient, gatewayClientFor } from '../api/gateway-client';
import { formatApiError } from '../api/problem-format';
import { FollowAborted, SubscribeFailed } from '../api/task-event-stream';
import { followWorkflowRun } from '../api/workflow-run-stream';
import type { CliContext } from '../cli-context';
import { formatColumns } from '../render/format-columns';
import { formatRunHeader, formatRunSummary, formatStepTable } from '../render/workflow-run-render';
import { WorkflowRunProgress } from '../render/workflow-run-progress';
import { WorkflowRunState } from '../render/workflow-run-state';
import { addApiOptions, type SetExitCode, urlOption } from './command-options';
import { checkDefinition, looksLikeFile, readDefinitionFile, sameDefinition } from './workflow-file';
import { parseRunInputs, type RunInputFlags } from './workflow-run-inputs';

interface WorkflowFlags {
  api?: string;
  json?: boolean;
  project?: string;
}

interface CreateFlags extends WorkflowFlags {
  template?: string;
  name?: string;
}

interface RunFlags extends WorkflowFlags, RunInputFlags {
  version?: number;
  follow?: boolean;
  ws?: string;
}

interface DecideFlags extends WorkflowFlags {
  comment?: string;
}

// How often a run is read when websocket-pool cannot stream it.
const POLL_INTERVAL_MS = 1000;

// Problems found here, before or between requests: printed like the gateway's, one per line.
class CliProblem extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
    this.name = 'CliProblem';
  }
}

export function registerWorkflowCommands(
  program: Command,
  context: CliContext,
  setExitCode: SetExitCode,
): void {
  const workflow = program
    .command('workflow')
    .description('define workflows (graphs of agent steps), run them and watch their runs');
  // Each action resolves to its exit code; failures print as the gateway's problems do.
  const act =
    <A extends unknown[]>(action: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      try {
        setExitCode(await action(...args));
      } catch (error) {
        printFailure(context, error);
        setExitCode(1);
      }
    };
  const projectOption = (command: Command) =>
    command.option('--project <slug>', 'the project, when your token or account has several');

  addApiOptions(
    projectOption(
      workflow
        .command('list')
        .description("the project's workflows: name, newest version, description")
        .option('--json', 'print them as JSON'),
    ),
  ).action(act((flags: WorkflowFlags) => listWorkflows(flags, context)));

  addApiOptions(
    workflow
      .command('templates')
      .description('the ready-made workflows to start from')
      .option('--json', 'print them as JSON'),
  ).action(act((flags: WorkflowFlags) => listTemplates(flags, context)));

  addApiOptions(
    projectOption(
      workflow
        .command('create')
        .description('store a workflow from a JSON or YAML file, or from a template')
        .argument('[file]', 'the definition (.json, .yaml or .yml)')
        .option('--template <name>', 'start from this template (hangar workflow templates lists them)')
        .option('--name <name>', 'the new workflow’s name (default: the file’s or the template’s)')
        .option('--json', 'print the stored workflow as JSON'),
    ),
  ).action(act((file: string | undefined, flags: CreateFlags) => createWorkflow(file, flags, context)));

  addApiOptions(
    projectOption(
      workflow
        .command('update')
        .description('store a new version of a workflow from a JSON or YAML file')
        .argument('<workflow>', 'its name or id')
        .argument('<file>', 'the new definition (.json, .yaml or .yml); its name must stay')
        .option('--json', 'print the stored workflow as JSON'),
    ),
  ).action(
    act((target: string, file: string, flags: WorkflowFlags) => updateWorkflow(target, file, flags, context)),
  );

  addApiOptions(
    projectOption(
      workflow
        .command('run')
        .description(
          'start a run; a file is stored first (a new version when it changed). With --follow, ' +
            'watch it and exit 0 only when it completes',
        )
        .argument('<workflow>', 'a workflow’s name or id, or a definition file (.json, .yaml, .yml)')
        .option(
          '-i, --input <name=value>',
          'an input (repeat it); parsed as the input’s declared type',
          collect,
        )
        .option('--input-json <name=json>', 'an input given as JSON (repeat it)', collect)
        .option('--version <n>', 'run this version instead of the newest', versionOption)
        .option('-f, --follow', 'show the steps live until the run ends')
        .option('--json', 'print JSON (with --follow: each changed step per line, then the run)'),
    ),
  )
    .option('--ws <url>', 'websocket-pool URL (default: $HANGAR_WS_URL or http://127.0.0.1:4006)', urlOption)
    .action(act((target: string, flags: RunFlags) => runWorkflow(target, flags, context)));

  addApiOptions(
    workflow
      .command('status')
      .description('show a run: its steps, status, cost, outputs or error')
      .argument('<run>', 'workflow run id')
      .option('--json', 'print the run as JSON'),
  ).action(act((runId: string, flags: WorkflowFlags) => showRun(runId, flags, context)));

  addApiOptions(
    workflow
      .command('cancel')
      .description('cancel a run: its running steps stop, nothing more starts')
      .argument('<run>', 'workflow run id')
      .option('--json', 'print the run as JSON'),
  ).action(act((runId: string, flags: WorkflowFlags) => cancelRun(runId, flags, context)));

  for (const approved of [true, false]) {
    addApiOptions(
      workflow
        .command(approved ? 'approve' : 'reject')
        .description(`${approved ? 'approve' : 'reject'} an approval step waiting in a run`)
        .argument('<run>', 'workflow run id')
        .argument('<step>', 'the step’s key (e.g. deploy, or gate@2 in a loop)')
        .option('--comment <text>', 'why; the step’s output keeps it')
        .option('--json', 'print the run as JSON'),
    ).action(
      act((runId: string, key: string, flags: DecideFlags) => decide(runId, key, approved, flags, context)),
    );
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function versionOption(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new InvalidArgumentError('must be a version number (1, 2, …)');
  return Number(raw);
}

function printFailure(context: CliContext, error: unknown): void {
  const { io } = context;
  if (error instanceof CliProblem) {
    for (const line of error.lines) io.err(`${io.errPalette.red('error:')} ${line}`);
    return;
  }
  for (const line of formatApiError(error, io.errPalette)) io.err(line);
  if (error instanceof ApiError && error.problem?.code === 'WORKFLOW_EXISTS')
    io.err(io.errPalette.dim('(hangar workflow update <name> <file> stores a new version)'));
}

async function listWorkflows(flags: WorkflowFlags, context: CliContext): Promise<number> {
  const { io } = context;
  const workflows = await gatewayClientFor(context, flags.api).listWorkflows(flags.project);
  if (flags.json) {
    io.out(JSON.stringify(workflows, null, 2));
    return 0;
  }
  if (workflows.length === 0) {
    io.err(io.errPalette.dim('no workflows yet: hangar workflow create <file> (or --template <name>)'));
    return 0;
  }
  const projects = new Set(workflows.map((item) => item.project));
  const rows = workflows.map((item) => [
    ...(projects.size > 1 ? [item.project] : []),
    item.name,
    `v${item.version}`,
    item.description ?? '',
  ]);
  const header = [...(projects.size > 1 ? ['PROJECT'] : []), 'NAME', 'VERSION', 'DESCRIPTION'];
  for (const line of formatColumns(header, rows, io.outPalette.dim)) io.out(line);
  return 0;
}

async function listTemplates(flags: WorkflowFlags, context: CliContext): Promise<number> {
  const { io } = context;
  const templates = await gatewayClientFor(context, flags.api).listWorkflowTemplates();
  if (flags.json) {
    io.out(JSON.stringify(templates, null, 2));
    return 0;
  }
  const rows = templates.map((template) => [
    template.name,
    Object.keys(template.definition.inputs).join(', '),
    template.description,
  ]);
  for (const line of formatColumns(['NAME', 'INPUTS', 'DESCRIPTION'], rows, io.outPalette.dim)) io.out(line);
  io.err(io.errPalette.dim('make one yours: hangar workflow create --template <name> [--name <new name>]'));
  return 0;
}

async function createWorkflow(
  file: string | undefined,
  flags: CreateFlags,
  context: CliContext,
): Promise<number> {
  const { io } = context;
  if ((file === undefined) === (flags.template === undefined))
    throw new CliProblem(['give a definition file or --template <name> (one of the two)']);
  const client = gatewayClientFor(context, flags.api);
  let definition: WorkflowDefinition;
  if (file !== undefined) definition = definitionFrom(file);
  else {
    const templates = await client.listWorkflowTemplates();
    const template = templates.find((candidate) => candidate.name === flags.template);
    if (!template)
      throw new CliProblem([
        `--template: there is no template "${flags.template}" (there are: ${templates.map((item) => item.name).join(', ')})`,
      ]);
    definition = template.definition;
  }
  if (flags.name !== undefined) {
    const renamed = checkDefinition({ ...definition, name: flags.name });
    if (!renamed.ok) throw new CliProblem(renamed.errors.map((error) => error.replace(/^name:/, '--name:')));
    definition = renamed.definition;
  }
  const created = await client.createWorkflow(definition, flags.project);
  if (flags.json) io.out(JSON.stringify(created, null, 2));
  else io.out(`created workflow ${io.outPalette.bold(created.name)} v${created.version} (${created.id})`);
  return 0;
}

async function updateWorkflow(
  target: string,
  file: string,
  flags: WorkflowFlags,
  context: CliContext,
): Promise<number> {
  const { io } = context;
  const definition = definitionFrom(file);
  const client = gatewayClientFor(context, flags.api);
  const current = await resolveWorkflow(client, target, flags.project);
  const updated = await client.updateWorkflow(current.id, definition);
  if (flags.json) io.out(JSON.stringify(updated, null, 2));
  else io.out(`workflow ${io.outPalette.bold(updated.name)} is now v${updated.version} (${updated.id})`);
  return 0;
}

function definitionFrom(file: string): WorkflowDefinition {
  const read = readDefinitionFile(file);
  if (!read.ok) throw new CliProblem(read.errors);
  return read.definition;
}

// A workflow by name, else by id, among those the caller sees.
async function resolveWorkflow(client: GatewayClient, target: string, project?: string): Promise<Workflow> {
  const workflows = await client.listWorkflows(project);
  const named = workflows.filter((candidate) => candidate.name === target);
  if (named.length > 1)
    throw new CliProblem([
      `workflow "${target}" is in several projects (${named.map((item) => item.project).join(', ')}): say which with --project`,
    ]);
  const found = named[0] ?? workflows.find((candidate) => candidate.id === target);
  if (!found)
    throw new CliProblem([
      `there is no workflow named "${target}" or with that id (hangar workflow list shows them)`,
    ]);
  return found;
}

// A file's definition stored as a workflow: created when its name is new, a new version when it
// differs from the newest one, left alone when it does not.
async function saveDefinition(
  client: GatewayClient,
  definition: WorkflowDefinition,
  context: CliContext,
  project?: string,
): Promise<Workflow> {
  const { io } = context;
  const existing = (await client.listWorkflows(project)).filter((item) => item.name === definition.name);
  if (existing.length > 1)
    throw new CliProblem([
      `workflow "${definition.name}" is in several projects (${existing.map((item) => item.project).join(', ')}): say which with --project`,
    ]);
  const [current] = existing;
  const note = (text: string) => io.err(io.errPalette.dim(text));
  if (!current) {
    const created = await client.createWorkflow(definition, project);
    note(`created workflow ${created.name} v${created.version}`);
    return created;
  }
  if (sameDefinition(current.definition, definition)) {
    note(`workflow ${current.name} v${current.version} is unchanged`);
    return current;
  }
  const updated = await client.updateWorkflow(current.id, definition);
  note(`workflow ${updated.name} is now v${updated.version}`);
  return updated;
}

async function runWorkflow(target: string, flags: RunFlags, context: CliContext): Promise<number> {
  const { io } = context;
  const client = gatewayClientFor(context, flags.api);
  const fromFile = looksLikeFile(target);
  let workflow: Workflow | undefined;
  let definition: WorkflowDefinition;
  if (fromFile) {
    if (flags.version !== undefined)
      throw new CliProblem(['--version: a file runs the version it stores (leave --version out)']);
    definition = definitionFrom(target);
  } else {
    workflow = await resolveWorkflow(client, target, flags.project);
    definition = await definitionOf(client, workflow, flags.version);
  }
  // Refused inputs stop here: nothing is stored or started.
  const inputs = parseRunInputs(definition.name, definition.inputs, flags);
  if (!inputs.ok) throw new CliProblem(inputs.errors);
  workflow ??= await saveDefinition(client, definition, context, flags.project);
  const run = await client.startWorkflowRun(workflow.id, {
    inputs: inputs.inputs,
    ...(flags.version !== undefined ? { version: flags.version } : {}),
  });
  if (!flags.follow) {
    io.out(flags.json ? JSON.stringify(run, null, 2) : run.id);
    if (!flags.json)
      io.err(
        io.errPalette.dim(
          `${run.status.toLowerCase()} · ${run.workflow} v${run.version}; see it with: hangar workflow status ${run.id}`,
        ),
      );
    return 0;
  }
  return followRun(run, definition, flags, context, client);
}

async function definitionOf(
  client: GatewayClient,
  workflow: Workflow,
  version: number | undefined,
): Promise<WorkflowDefinition> {
  if (version === undefined || version === workflow.version) return workflow.definition;
  const found = (await client.workflowVersions(workflow.id)).find((item) => item.version === version);
  if (!found)
    throw new CliProblem([
      `--version: workflow "${workflow.name}" has no version ${version}; its newest is ${workflow.version}`,
    ]);
  return found.definition;
}

// The definition a run runs, to lay its steps out; a run of a workflow archived since is shown
// without it.
async function runDefinition(
  client: GatewayClient,
  run: WorkflowRun,
): Promise<WorkflowDefinition | undefined> {
  try {
    const versions = await client.workflowVersions(run.workflowId);
    return versions.find((item) => item.version === run.version)?.definition;
  } catch {
    return undefined;
  }
}

async function followRun(
  run: WorkflowRun,
  definition: WorkflowDefinition | undefined,
  flags: RunFlags,
  context: CliContext,
  client: GatewayClient,
): Promise<number> {
  const { io, env } = context;
  const state = new WorkflowRunState(run, definition);
  const progress = new WorkflowRunProgress(state, io, flags.json);
  progress.start();
  const refresh = async (): Promise<WorkflowRunStatus> => {
    progress.changed(state.applyRun(await client.getWorkflowRun(run.id)));
    return state.run.status;
  };
  const signal = context.shutdownSignal();
  try {
    await followWorkflowRun({
      wsUrl: flags.ws ?? env.wsUrl,
      token: env.token,
      runId: run.id,
      onActivity: (activity) => progress.changed(state.applyActivity(activity)),
      refresh,
      onNotice: (message) => progress.notice(message),
      signal,
    });
  } catch (error) {
    if (error instanceof FollowAborted) return stoppedFollowing(run, context);
    if (!(error instanceof SubscribeFailed) || !['UNKNOWN', 'INVALID_REQUEST'].includes(error.code)) {
      const message = error instanceof SubscribeFailed ? `${error.message} (${error.code})` : String(error);
      io.err(`${io.errPalette.red('error:')} cannot follow workflow run ${run.id}: ${message}`);
      return 1;
    }
    // The run was just read, so the refusal is websocket-pool not serving run topics (one older
    // than this CLI): read the run over REST instead.
    progress.notice(
      `websocket-pool does not stream workflow-run:${run.id} (${error.code}: ${error.message}); reading the run every ${POLL_INTERVAL_MS / 1000}s instead`,
    );
    try {
      while ((await refresh()) === 'RUNNING') await sleep(POLL_INTERVAL_MS, undefined, { signal });
    } catch (pollError) {
      if (signal.aborted) return stoppedFollowing(run, context);
      throw pollError;
    }
  }
  try {
    await refresh();
  } catch (error) {
    // The end was seen on the topic; the summary shows what it carried.
    for (const line of formatApiError(error, io.errPalette)) io.err(line);
  }
  progress.finish();
  return state.run.status === 'COMPLETED' ? 0 : 1;
}

function stoppedFollowing(run: WorkflowRun, context: CliContext): number {
  context.io.err(
    `stopped following; workflow run ${run.id} goes on (hangar workflow cancel ${run.id} stops it)`,
  );
  return 130;
}

async function showRun(runId: string, flags: WorkflowFlags, context: CliContext): Promise<number> {
  const { io } = context;
  const client = gatewayClientFor(context, flags.api);
  const run = await client.getWorkflowRun(runId);
  if (flags.json) {
    io.out(JSON.stringify(run, null, 2));
    return 0;
  }
  const state = new WorkflowRunState(run, await runDefinition(client, run));
  const palette = io.outPalette;
  const lines = [
    formatRunHeader(run, palette),
    ...formatStepTable(state, palette, io.terminal ? { width: io.terminal.columns() - 1 } : {}),
    ...formatRunSummary(run, palette),
  ];
  const facts: [string, string][] = [
    ['inputs', JSON.stringify(run.inputs)],
    ['started', `${run.createdAt} by ${run.createdBy}`],
    ...(run.finishedAt ? ([['finished', run.finishedAt]] as [string, string][]) : []),
  ];
  for (const [label, value] of facts) lines.push(`${palette.dim(label.padEnd(10))}${value}`);
  for (const line of lines) io.out(line);
  return 0;
}

async function cancelRun(runId: string, flags: WorkflowFlags, context: CliContext): Promise<number> {
  const { io } = context;
  const run = await gatewayClientFor(context, flags.api).cancelWorkflowRun(runId);
  if (flags.json) io.out(JSON.stringify(run, null, 2));
  else io.out(`cancel of workflow run ${run.id} requested: its running steps stop shortly`);
  return 0;
}

async function decide(
  runId: string,
  key: string,
  approved: boolean,
  flags: DecideFlags,
  context: CliContext,
): Promise<number> {
  const { io } = context;
  const run = await gatewayClientFor(context, flags.api).decideWorkflowStep(
    runId,
    key,
    approved,
    flags.comment,
  );
  if (flags.json) io.out(JSON.stringify(run, null, 2));
  else
    io.out(
      `${approved ? 'approved' : 'rejected'} step ${key} of workflow run ${run.id}; the run goes on shortly`,
    );
  return 0;
}
