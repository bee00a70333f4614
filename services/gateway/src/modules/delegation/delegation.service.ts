import { Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import {
  HangarError,
  StartChildTaskMessageSchema,
  StartChildWorkflowMessageSchema,
  type DelegationSettings,
  type StartChildTaskMessage,
  type StartChildTaskReply,
  type StartChildWorkflowMessage,
  type StartChildWorkflowReply,
  type Task,
} from '@hangar/contracts';
import { ProfileRepository, TaskRepository, WorkflowRunRepository } from '@hangar/db';
import { activeTraceField, inSpan, SpanKind } from '@hangar/observability';
import { TaskLifecycle } from '@hangar/platform';
import { TasksService } from '../tasks/tasks.service';
import { WorkflowRunsService } from '../workflows/workflow-runs.service';
import { placeChild, placeChildRun } from './delegation-policy';

type Parent = Task & { projectId: string };
type Refusal = { ok: false; code: string; message: string };

// Children of delegating agents (docs/delegation.md). The runner that serves an agent's MCP
// tools asks here rather than recording tasks itself, so a child passes the same creation
// policy as every other task or run (scenarios, repositories and git hosts: TasksService; a
// workflow's inputs: WorkflowRunsService), decided by the service that owns it; the runner only
// reads what an agent may see of its children. Idempotent on the id the runner chose: two
// gateways answering the same request, or a retried one, record one child. Every refusal is an
// answer, never a transport error.
@Injectable()
export class DelegationService {
  private readonly logger = new Logger(DelegationService.name);

  constructor(
    private readonly tasks: TaskRepository,
    private readonly profiles: ProfileRepository,
    private readonly creation: TasksService,
    private readonly lifecycle: TaskLifecycle,
    private readonly workflowRuns: WorkflowRunsService,
    private readonly runs: WorkflowRunRepository,
  ) {}

  startChildTask(payload: unknown): Promise<StartChildTaskReply> {
    return this.answer(StartChildTaskMessageSchema, payload, async (message, parent, settings) => ({
      ok: true as const,
      task: await this.childTask(message, parent, settings),
    }));
  }

  // A run of one of the project's workflows: every step on a profile the parent may use.
  startChildWorkflow(payload: unknown): Promise<StartChildWorkflowReply> {
    return this.answer(StartChildWorkflowMessageSchema, payload, async (message, parent, settings) => ({
      ok: true as const,
      run: await this.workflowRuns.startForParent(
        parent.projectId,
        message.request.workflow,
        message.request.inputs,
        `task:${parent.id}`,
        (definition) => {
          const placement = placeChildRun(parent, message.attempt, settings, definition);
          if (!placement.ok) throw new DelegationRefused(placement.message);
        },
        async (row) => {
          const outcome = await this.runs.createChild(
            { ...row, id: message.runId, parentTaskId: parent.id },
            settings.maxChildren,
          );
          if (outcome.kind === 'limit') throw fanOutReached(parent, outcome.count);
          if (outcome.kind === 'created')
            this.logger.log(
              `task ${parent.id} started workflow run ${message.runId} (${message.request.workflow})`,
            );
          return outcome.id;
        },
      ),
    }));
  }

  private async childTask(
    message: StartChildTaskMessage,
    parent: Parent,
    settings: DelegationSettings,
  ): Promise<Task> {
    const placement = placeChild(parent, message.attempt, settings, message.request, new Date());
    if (!placement.ok) throw new DelegationRefused(placement.message);
    const input = {
      ...message.request,
      profile: placement.profile,
      timeoutSeconds: placement.timeoutSeconds,
      // At its parent's priority unless it asks for another.
      priority: message.request.priority ?? parent.priority,
    };
    await this.creation.checkCreation(input, parent.projectId);
    const outcome = await this.lifecycle.createChild(
      {
        ...input,
        id: message.childId,
        projectId: parent.projectId,
        parentTaskId: parent.id,
        rootTaskId: placement.rootTaskId,
        depth: placement.depth,
        ...activeTraceField(),
      },
      settings.maxChildren,
    );
    if (outcome.kind === 'limit') throw fanOutReached(parent, outcome.count);
    if (outcome.kind === 'created') {
      this.logger.log(`task ${parent.id} started child ${message.childId} (depth ${placement.depth})`);
      this.creation.created(outcome.task, parent.projectId);
    }
    return outcome.task;
  }

  // The request checked, its parent and the parent's delegation setting found, and every
  // refusal on the way made an answer.
  private async answer<Message extends StartChildTaskMessage | StartChildWorkflowMessage, Reply>(
    schema: z.ZodType<Message>,
    payload: unknown,
    start: (message: Message, parent: Parent, settings: DelegationSettings) => Promise<Reply>,
  ): Promise<Reply | Refusal> {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) return refused('VALIDATION_FAILED', z.prettifyError(parsed.error));
    const { parentTaskId } = parsed.data;
    // In the trace of the agent's call: its child joins it.
    return inSpan(
      'delegation.start',
      parsed.data.trace,
      () => this.started(parsed.data, parentTaskId, start),
      { kind: SpanKind.CONSUMER, attributes: { 'hangar.task_id': parentTaskId } },
    );
  }

  private async started<Message extends StartChildTaskMessage | StartChildWorkflowMessage, Reply>(
    message: Message,
    parentTaskId: string,
    start: (message: Message, parent: Parent, settings: DelegationSettings) => Promise<Reply>,
  ): Promise<Reply | Refusal> {
    try {
      const parent = await this.tasks.findWithProject(parentTaskId);
      if (!parent) return refused('TASK_NOT_FOUND', `task ${parentTaskId} does not exist`);
      const settings = (await this.profiles.ofTask(parentTaskId)).delegation;
      return await start(message, parent, settings);
    } catch (error) {
      if (error instanceof DelegationRefused) return refused('DELEGATION_REFUSED', error.message);
      if (error instanceof HangarError) return refused(error.code, describe(error));
      throw error;
    }
  }
}

// The delegation policy's refusal, also from inside the use cases it borrows.
class DelegationRefused extends Error {}

function fanOutReached(parent: Parent, count: number): DelegationRefused {
  return new DelegationRefused(
    `task ${parent.id} has started ${count} tasks and workflow runs, the most profile "${parent.profile}" allows; wait for them and use their results`,
  );
}

// A refusal's message, with the fields a problem+json answer would name (a workflow's inputs).
function describe(error: HangarError): string {
  const problems = (error.details['errors'] ?? []) as { path?: string; field?: string; message?: string }[];
  const named = problems.map((problem) => `${problem.path ?? problem.field ?? ''}: ${problem.message ?? ''}`);
  return named.length > 0 ? `${error.message} (${named.join('; ')})` : error.message;
}

function refused(code: string, message: string): Refusal {
  return { ok: false, code, message };
}
