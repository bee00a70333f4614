import {
  type AnswerApprovalRequest,
  AnswerApprovalSchema,
  type ApprovalAnswerDecision,
  ListApprovalsQuerySchema,
} from '@hangar/contracts';
import { type Command, Option } from 'commander';
import { ApiError, gatewayClientFor } from '../api/gateway-client';
import { formatApiError } from '../api/problem-format';
import type { CliContext } from '../cli-context';
import { formatApprovalDetails, formatApprovalLine, formatApprovalTable } from '../render/approval-render';
import { escapeControls } from '../render/terminal-text';
import { addApiOptions, type SetExitCode } from './command-options';

interface ApprovalFlags {
  api?: string;
  json?: boolean;
}

interface ListFlags extends ApprovalFlags {
  task?: string;
  project?: string;
  all?: boolean;
  answered?: boolean;
}

interface AllowFlags extends ApprovalFlags {
  forTask?: boolean;
}

interface DenyFlags extends ApprovalFlags {
  message?: string;
}

// How many approvals one listing holds (the gateway's default page).
const LIST_LIMIT = ListApprovalsQuerySchema.parse({}).limit;

// Problems found here, before anything is sent: printed like the gateway's, one per line.
class CliProblem extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
    this.name = 'CliProblem';
  }
}

// Tool calls of headless agents that wait for a person (docs/governance.md): every member of a
// project sees them; its operators and admins answer them.
export function registerApprovalCommands(
  program: Command,
  context: CliContext,
  setExitCode: SetExitCode,
): void {
  const approvals = program
    .command('approvals')
    .description("tool calls of agents that wait for a person's approval: list, show, allow, deny");
  // Each action resolves to its exit code; failures print as the gateway's problems do, with
  // what to do next.
  const act =
    <A extends unknown[]>(action: (...args: A) => Promise<number>, answering = false) =>
    async (...args: A): Promise<void> => {
      try {
        setExitCode(await action(...args));
      } catch (error) {
        printFailure(context, error, typeof args[0] === 'string' ? args[0] : '<id>', answering);
        setExitCode(1);
      }
    };

  addApiOptions(
    approvals
      .command('list', { isDefault: true })
      .description('the approvals that wait for an answer, soonest deadline first (the default)')
      // `hangar approvals nope` reaches here: said below as an unknown command, not an argument.
      .allowExcessArguments()
      .option('--task <id>', "only this task's")
      .addOption(new Option('--all', 'answered and expired ones too').conflicts('answered'))
      .option('--answered', 'only answered and expired ones')
      .option('--project <slug>', "only this project's (default: every project you are in)")
      .option('--json', 'print them as JSON'),
  ).action(act((flags: ListFlags, command: Command) => listApprovals(flags, command.args, context)));

  addApiOptions(
    approvals
      .command('show')
      .description('show an approval whole: the tool call and its input, the rule, the deadline, the answer')
      .argument('<id>', 'approval id')
      .option('--json', 'print the approval as JSON'),
  ).action(act((id: string, flags: ApprovalFlags) => showApproval(id, flags, context)));

  addApiOptions(
    approvals
      .command('allow')
      .description('let the waiting tool call run (operators and admins of its project)')
      .argument('<id>', 'approval id')
      .option('--for-task', 'and every later call of the task the same rule matches, without asking')
      .option('--json', 'print the answered approval as JSON'),
  ).action(
    act(
      (id: string, flags: AllowFlags) =>
        answer(id, flags.forTask ? 'allow-task' : 'allow-once', undefined, flags, context),
      true,
    ),
  );

  addApiOptions(
    approvals
      .command('deny')
      .description('refuse the waiting tool call: the agent is told no and goes on')
      .argument('<id>', 'approval id')
      .option('-m, --message <text>', 'what the agent is told (default: who denied it)')
      .option('--json', 'print the answered approval as JSON'),
  ).action(act((id: string, flags: DenyFlags) => answer(id, 'deny', flags.message, flags, context), true));
}

async function listApprovals(flags: ListFlags, extra: string[], context: CliContext): Promise<number> {
  const { io } = context;
  if (extra.length > 0)
    throw new CliProblem([
      `hangar approvals has no command "${extra[0]}": it has list (the default), show, allow and deny`,
    ]);
  const status = flags.all ? 'all' : flags.answered ? 'answered' : 'pending';
  const items = await gatewayClientFor(context, flags.api).listApprovals({
    project: flags.project,
    task: flags.task,
    status,
  });
  if (flags.json) {
    io.out(json(items));
    return 0;
  }
  const note = (text: string) => io.err(io.errPalette.dim(text));
  if (items.length === 0) {
    const of = flags.task === undefined ? '' : ` of task ${flags.task}`;
    note(
      status === 'pending'
        ? `no approval${of} waits for an answer (--all lists the answered ones too)`
        : `no ${status === 'answered' ? 'answered approvals' : 'approvals'}${of}`,
    );
    return 0;
  }
  for (const line of formatApprovalTable(items, io.outPalette, Date.now())) io.out(line);
  if (items.length >= LIST_LIMIT)
    note(`the first ${LIST_LIMIT} only: narrow the list with --task or --project`);
  if (items.some((item) => item.status === 'PENDING'))
    note('hangar approvals show <id> shows a call whole; hangar approvals allow|deny <id> answers it');
  return 0;
}

async function showApproval(id: string, flags: ApprovalFlags, context: CliContext): Promise<number> {
  const { io } = context;
  const approval = await gatewayClientFor(context, flags.api).getApproval(id);
  if (flags.json) {
    io.out(json(approval));
    return 0;
  }
  for (const line of formatApprovalDetails(approval, io.outPalette, Date.now())) io.out(line);
  if (approval.status === 'PENDING')
    io.err(
      io.errPalette.dim(
        `answer it: hangar approvals allow ${approval.id} [--for-task], or hangar approvals deny ${approval.id} [--message <text>]`,
      ),
    );
  return 0;
}

async function answer(
  id: string,
  decision: ApprovalAnswerDecision,
  message: string | undefined,
  flags: ApprovalFlags,
  context: CliContext,
): Promise<number> {
  const { io } = context;
  const answered = await gatewayClientFor(context, flags.api).answerApproval(
    id,
    answerRequest(decision, message),
  );
  if (flags.json) io.out(json(answered));
  else io.out(formatApprovalLine(answered, io.outPalette, Date.now()));
  return 0;
}

// JSON with the agent's text as it is, but for what JSON.stringify leaves raw (C1 controls,
// bidirectional controls): escaped too, so nothing acts on a terminal and a parser reads the same.
function json(value: unknown): string {
  return escapeControls(JSON.stringify(value, null, 2));
}

// The same schema the gateway applies, checked here so a mistake costs no round trip.
function answerRequest(decision: ApprovalAnswerDecision, message: string | undefined): AnswerApprovalRequest {
  const parsed = AnswerApprovalSchema.safeParse({ decision, ...(message === undefined ? {} : { message }) });
  if (parsed.success) return parsed.data;
  throw new CliProblem(
    parsed.error.issues.map((issue) => {
      const field = issue.path.join('.');
      const label = field === 'message' ? '--message' : field;
      const problem =
        issue.code === 'too_small'
          ? 'must not be empty (leave --message out to tell the agent who denied it)'
          : issue.code === 'too_big'
            ? `must be at most ${issue.maximum} characters`
            : issue.message;
      return `${label}: ${problem}`;
    }),
  );
}

function printFailure(context: CliContext, error: unknown, id: string, answering: boolean): void {
  const { io } = context;
  if (error instanceof CliProblem) {
    for (const line of error.lines) io.err(`${io.errPalette.red('error:')} ${line}`);
    return;
  }
  for (const line of formatApiError(error, io.errPalette)) io.err(line);
  if (!(error instanceof ApiError)) return;
  const advice = (text: string) => io.err(io.errPalette.dim(text));
  const code = error.problem?.code;
  if (code === 'APPROVAL_NOT_FOUND')
    advice(
      'hangar approvals lists those that wait (--all: every one); those of projects you are not in are not shown',
    );
  else if (code === 'APPROVAL_CLOSED')
    advice(`the agent has had its answer; hangar approvals show ${id} shows what it was`);
  else if (code === 'FORBIDDEN' && answering)
    advice(
      "answering takes the operator (or admin) role in the approval's project: ask one of its admins, " +
        "or answer with an operator's token (HANGAR_TOKEN)",
    );
}
