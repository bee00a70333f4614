import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { lastValueFrom, timeout } from 'rxjs';
import { z } from 'zod';
import {
  APPROVAL_TOOL,
  ChildIdInputSchema,
  ChildTaskRequestSchema,
  ChildWorkflowRequestSchema,
  DelegationPatterns,
  isTerminalStatus,
  Patterns,
  StartChildTaskReplySchema,
  StartChildWorkflowReplySchema,
  TaskCancelReplySchema,
  PermissionPromptInputSchema,
  WaitToolInputSchema,
  type AgentProfile,
  type PermissionPromptInput,
  type StartChildTaskMessage,
  type StartChildWorkflowMessage,
  type Task,
  type WorkflowJob,
  type WorkflowRun,
} from '@hangar/contracts';
import {
  ProfileRepository,
  TaskDiffRepository,
  TaskRepository,
  WorkflowRunRepository,
  type AttemptGrant,
} from '@hangar/db';
import { activeTraceField } from '@hangar/observability';
import { Queues, WORKFLOW_QUEUE_SPEC, type QueueProducer } from '@hangar/redis';
import { ApprovalGate } from './approval-gate';
import { AttemptCredentials, REFUSAL_TEXT } from './attempt-credentials.service';
import { sendJson } from './model-gateway';

export const DELEGATION_CLIENT = Symbol('DELEGATION_CLIENT');

// How long a tool waits for the gateway or the orchestrator to answer over Redis.
const RPC_TIMEOUT_MS = 10_000;
// How often `wait` looks at the children; their ends are in PostgreSQL, which every runner and
// task pod reaches, so polling works wherever the agent runs.
const WAIT_POLL_MS = 1000;
// A tool call is one HTTP request: well under the 300 s an HTTP client (undici) waits for
// headers or the next bytes, so a long wait is several calls.
const WAIT_DEFAULT_SECONDS = 120;
const WAIT_MAX_SECONDS = 270;
// A child's diff as a tool returns it.
const DIFF_MAX_CHARS = 100_000;

// Hangar's own MCP server for delegating agents (docs/delegation.md) and for the permission
// prompt of profiles with approvals (docs/governance.md), on the runner's endpoints at /mcp, stateless (Streamable HTTP, one server per request). The caller is the
// attempt whose credential it sends; it acts on its own children (tasks and workflow runs)
// only. Starting a child goes to the gateway (its creation policy); cancelling a task to the
// orchestrator, as from the API.
// Every refusal is a tool error (isError) that says what to do, never a transport error.
// A workflow run started here is cancelled through the engine's queue, as the API does.
@Injectable()
export class DelegationMcp {
  private readonly logger = new Logger(DelegationMcp.name);
  private readonly workflows: QueueProducer<WorkflowJob>;

  constructor(
    private readonly credentials: AttemptCredentials,
    private readonly tasks: TaskRepository,
    private readonly runs: WorkflowRunRepository,
    private readonly diffs: TaskDiffRepository,
    private readonly profiles: ProfileRepository,
    private readonly approvals: ApprovalGate,
    @Inject(DELEGATION_CLIENT) private readonly client: ClientProxy,
    queues: Queues,
  ) {
    this.workflows = queues.producer(WORKFLOW_QUEUE_SPEC);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const access = token ? await this.credentials.check(token) : undefined;
    if (!access?.ok) {
      const why = access ? REFUSAL_TEXT[access.refusal] : 'no credential was sent';
      return sendJson(res, 401, {
        jsonrpc: '2.0',
        error: { code: -32001, message: `hangar: ${why}` },
        id: null,
      });
    }
    const profile = await this.profiles.ofTask(access.grant.taskId);
    const server = this.serverFor(access.grant, profile);
    const transport = new (mcpSdk().StreamableHTTPServerTransport)({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }

  private serverFor(grant: AttemptGrant, profile: AgentProfile): McpServer {
    const server = new (mcpSdk().McpServer)({ name: 'hangar', version: '1.0.0' });
    // The permission prompt tool of a profile with approvals (Claude Code's
    // --permission-prompt-tool; its agent cannot call it itself: it is a disallowed tool).
    if (profile.approvals.tools.length > 0)
      server.registerTool(
        APPROVAL_TOOL,
        {
          description:
            "Hangar's permission prompt: a tool call the profile's approval policy names waits for a person.",
          inputSchema: PermissionPromptInputSchema.shape,
        },
        async (args: PermissionPromptInput, extra): Promise<CallToolResult> => {
          const progressToken = extra._meta?.progressToken;
          const toolUseId = extra._meta?.['claudecode/toolUseId'];
          try {
            const decision = await this.approvals.decide(
              grant,
              profile,
              { ...args, ...(typeof toolUseId === 'string' ? { toolUseId } : {}) },
              {
                signal: extra.signal,
                progress: async (waitedMs) => {
                  if (progressToken === undefined) return;
                  await extra.sendNotification({
                    method: 'notifications/progress',
                    params: { progressToken, progress: waitedMs, message: 'waiting for a person to approve' },
                  });
                },
              },
            );
            return answer(decision);
          } catch (error) {
            this.logger.error({ err: error }, `task ${grant.taskId}: the permission prompt failed`);
            return answer({
              behavior: 'deny',
              message: `Hangar could not ask for approval just now (${String(error)}); try again`,
            });
          }
        },
      );
    if (!profile.delegation.enabled) return server;
    const tool =
      <Args>(run: (args: Args, signal: AbortSignal) => Promise<unknown>) =>
      async (args: Args, extra: { signal: AbortSignal }): Promise<CallToolResult> => {
        try {
          return answer(await run(args, extra.signal));
        } catch (error) {
          if (error instanceof ToolRefusal) return refusal(error.message);
          this.logger.error({ err: error }, `task ${grant.taskId}: a delegation tool failed`);
          return refusal(`Hangar could not do this just now (${String(error)}); try again`);
        }
      };

    server.registerTool(
      'start_task',
      {
        description:
          'Start a child task: another agent works on the prompt, in a workspace of its own, on a profile ' +
          'this task may delegate to. Answers the child at once (QUEUED); use wait for its result.',
        inputSchema: ChildTaskRequestSchema.shape,
      },
      tool((args: z.infer<typeof ChildTaskRequestSchema>) => this.startTask(grant, args)),
    );
    server.registerTool(
      'start_workflow',
      {
        description:
          "Start a run of one of the project's workflows (by name, its newest version) with inputs, as a child " +
          'of this task: every step must run on a profile this task may delegate to. Answers the run at once ' +
          '(RUNNING); use wait for its outputs.',
        inputSchema: ChildWorkflowRequestSchema.shape,
      },
      tool((args: z.infer<typeof ChildWorkflowRequestSchema>) => this.startWorkflow(grant, args)),
    );
    server.registerTool(
      'wait',
      {
        description:
          "Wait until the given children (all of this task's children when none are given) have ended, or " +
          `until timeoutSeconds (default ${WAIT_DEFAULT_SECONDS}, at most ${WAIT_MAX_SECONDS}) pass; ` +
          "answers each one's status and final result. Call again to wait longer.",
        inputSchema: WaitToolInputSchema.shape,
      },
      tool((args: z.infer<typeof WaitToolInputSchema>, signal) => this.wait(grant, args, signal)),
    );
    server.registerTool(
      'get_result',
      {
        description: "A child's status and final result (a workflow run's outputs) and error.",
        inputSchema: ChildIdInputSchema.shape,
      },
      tool(async ({ id }: z.infer<typeof ChildIdInputSchema>) => outcomeOf(await this.child(grant, id))),
    );
    server.registerTool(
      'get_diff',
      {
        description: 'The changes a finished child made to its workspace (a unified diff, and the files).',
        inputSchema: ChildIdInputSchema.shape,
      },
      tool(({ id }: z.infer<typeof ChildIdInputSchema>) => this.diff(grant, id)),
    );
    server.registerTool(
      'cancel',
      {
        description: 'Cancel a child task (and its own children) or workflow run.',
        inputSchema: ChildIdInputSchema.shape,
      },
      tool(({ id }: z.infer<typeof ChildIdInputSchema>) => this.cancel(grant, id)),
    );
    return server;
  }

  private async startTask(grant: AttemptGrant, request: z.infer<typeof ChildTaskRequestSchema>) {
    const message: StartChildTaskMessage = {
      parentTaskId: grant.taskId,
      attempt: grant.attempt,
      childId: randomUUID(),
      request,
      // The trace the agent's call is handled in (its MCP request's span): the child joins it.
      ...activeTraceField(),
    };
    const reply = await this.ask(DelegationPatterns.startChildTask, message, StartChildTaskReplySchema);
    return outcomeOf(reply.task);
  }

  private async startWorkflow(grant: AttemptGrant, request: z.infer<typeof ChildWorkflowRequestSchema>) {
    const message: StartChildWorkflowMessage = {
      parentTaskId: grant.taskId,
      attempt: grant.attempt,
      runId: randomUUID(),
      request,
      ...activeTraceField(),
    };
    const reply = await this.ask(
      DelegationPatterns.startChildWorkflow,
      message,
      StartChildWorkflowReplySchema,
    );
    return outcomeOf(reply.run);
  }

  // The gateway's answer to a start: the child, or its refusal as the agent's tool error.
  private async ask<Reply extends { ok: boolean }>(
    pattern: string,
    message: unknown,
    schema: z.ZodType<Reply>,
  ): Promise<Extract<Reply, { ok: true }>> {
    const reply = schema.parse(await this.rpc(pattern, message, 'the gateway'));
    if (!reply.ok) throw new ToolRefusal((reply as { message?: string }).message ?? 'refused');
    return reply as Extract<Reply, { ok: true }>;
  }

  private async wait(grant: AttemptGrant, args: z.infer<typeof WaitToolInputSchema>, signal: AbortSignal) {
    const seconds = Math.min(args.timeoutSeconds ?? WAIT_DEFAULT_SECONDS, WAIT_MAX_SECONDS);
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const children = await this.children(grant);
      const known = new Set(children.map((child) => child.id));
      const unknown = (args.ids ?? []).filter((id) => !known.has(id));
      if (unknown.length > 0) throw notAChild(unknown.join(', '));
      const chosen = args.ids ? children.filter((child) => args.ids?.includes(child.id)) : children;
      const pending = chosen.filter((child) => !isTerminalStatus(child.status));
      if (pending.length === 0 || Date.now() >= deadline || signal.aborted)
        return {
          done: pending.length === 0,
          ...(pending.length > 0 ? { note: `${pending.length} still running: call wait again` } : {}),
          children: chosen.map(outcomeOf),
        };
      await sleep(WAIT_POLL_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  private async diff(grant: AttemptGrant, id: string) {
    const child = await this.child(grant, id);
    if (isRun(child))
      throw new ToolRefusal(
        `${id} is a workflow run, whose steps each have their own diff: read its outputs with get_result`,
      );
    const diff = await this.diffs.get(child.id);
    if (!diff)
      throw new ToolRefusal(
        `task ${id} has no diff yet (it is ${child.status}): wait for it to end; a task without a repository has none`,
      );
    const truncated = diff.truncated || diff.unifiedDiff.length > DIFF_MAX_CHARS;
    return {
      id: child.id,
      files: diff.files,
      linesAdded: diff.linesAdded,
      linesRemoved: diff.linesRemoved,
      truncated,
      unifiedDiff: diff.unifiedDiff.slice(0, DIFF_MAX_CHARS),
    };
  }

  private async cancel(grant: AttemptGrant, id: string) {
    const child = await this.child(grant, id);
    if (isTerminalStatus(child.status)) return outcomeOf(child);
    if (isRun(child)) {
      // The engine cancels a run, and its steps' tasks, as it does for the API's cancel.
      await this.workflows.add('cancel', { kind: 'cancel', runId: child.id, by: `task:${grant.taskId}` });
      return { ...outcomeOf(child), note: 'cancel requested: the run ends CANCELLED shortly' };
    }
    const reply = TaskCancelReplySchema.parse(
      await this.rpc(Patterns.taskCancel, { taskId: child.id, ...activeTraceField() }, 'the orchestrator'),
    );
    if (!reply.ok) throw new ToolRefusal(reply.message);
    return outcomeOf(await this.child(grant, id));
  }

  // A task or workflow run this attempt's task started; anything else does not exist for it.
  private async child(grant: AttemptGrant, id: string): Promise<Task | WorkflowRun> {
    const child = (await this.children(grant)).find((candidate) => candidate.id === id);
    if (!child) throw notAChild(id);
    return child;
  }

  private async children(grant: AttemptGrant): Promise<(Task | WorkflowRun)[]> {
    const [tasks, runs] = await Promise.all([
      this.tasks.children(grant.taskId),
      this.runs.childrenOf(grant.taskId),
    ]);
    return [...tasks, ...runs];
  }

  private async rpc(pattern: string, message: unknown, who: string): Promise<unknown> {
    try {
      return await lastValueFrom(this.client.send(pattern, message).pipe(timeout(RPC_TIMEOUT_MS)));
    } catch (error) {
      throw new ToolRefusal(`${who} did not answer (${String(error)}); try again in a moment`);
    }
  }
}

class ToolRefusal extends Error {}

function notAChild(ids: string): ToolRefusal {
  return new ToolRefusal(
    `no child task ${ids} of this task: use the ids start_task answered, or wait with no ids for all of them`,
  );
}

function isRun(child: Task | WorkflowRun): child is WorkflowRun {
  return 'workflowId' in child;
}

function outcomeOf(child: Task | WorkflowRun) {
  if (isRun(child))
    return {
      id: child.id,
      kind: 'workflow-run',
      workflow: child.workflow,
      status: child.status,
      outputs: child.outputs,
      error: child.error,
      costUsd: child.costUsd,
    };
  const task = child;
  return {
    kind: 'task',
    id: task.id,
    status: task.status,
    profile: task.profile,
    depth: task.depth,
    result: task.result,
    error: task.error,
    costUsd: task.costUsd,
  };
}

function answer(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
}

function refusal(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

// The MCP SDK (with ajv and zod-to-json-schema, ~9 MB of heap) loads with the first request to
// the runner's MCP endpoint, not with the runner: most tasks never call it.
function mcpSdk(): {
  McpServer: typeof McpServer;
  StreamableHTTPServerTransport: typeof StreamableHTTPServerTransport;
} {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    McpServer: (
      require('@modelcontextprotocol/sdk/server/mcp.js') as typeof import('@modelcontextprotocol/sdk/server/mcp.js')
    ).McpServer,
    StreamableHTTPServerTransport: (
      require('@modelcontextprotocol/sdk/server/streamableHttp.js') as typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js')
    ).StreamableHTTPServerTransport,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}
