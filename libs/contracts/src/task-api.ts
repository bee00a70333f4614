import { z } from 'zod';
import { AgentEventSchema } from './events';
import { GitCredentialSchema } from './git-hosts';
import { AgentProfileSchema } from './profile';
import { TaskCheckResultSchema, TaskDiffSchema, TaskSchema, TaskUsageSchema } from './task';

// The task API: how run-task.js in a task pod (kubernetes executor) records its attempt through
// the agent-runner, holding no database or Redis credential. Every call carries the attempt's
// token (`Authorization: Bearer hga_…`) and acts on that attempt only: no ids in paths.
export const TASK_API_PREFIX = '/task-api/v1';

export const TASK_API_ROUTES = {
  claim: 'POST /claim',
  events: 'POST /events',
  heartbeat: 'POST /heartbeat',
  // How long the attempt's agent has waited for approvals so far (not counted against its timeout).
  approvalWait: 'GET /approval-wait',
  workspace: 'PUT /workspace',
  getSession: 'GET /session',
  putSession: 'PUT /session',
  diff: 'PUT /diff',
  pushed: 'POST /pushed',
  answer: 'POST /answer',
  finish: 'POST /finish',
  requeue: 'POST /requeue',
} as const;
export type TaskApiRoute = keyof typeof TASK_API_ROUTES;

// A warm task pod's routes (docs/performance.md), with its own credential (`hgw_…`), which
// nothing else takes: the profile it was started for, then its CLI ready and a wait for an attempt.
export const WARM_POD_ROUTES = {
  warmProfile: 'GET /warm/profile',
  warmAssignment: 'POST /warm/assignment',
} as const;
export type WarmPodRoute = keyof typeof WARM_POD_ROUTES;

export const TaskApiWarmProfileSchema = z.object({ profile: AgentProfileSchema });
export type TaskApiWarmProfile = z.infer<typeof TaskApiWarmProfileSchema>;

// `attemptTokenHash`: the sha256 (hex) of the credential the pod's CLI was started with; the
// attempt given to the pod is issued that credential. The answer comes when an attempt is given,
// or after a while with none (the pod asks again).
export const TaskApiWarmAssignmentRequestSchema = z
  .object({ attemptTokenHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex') })
  .strict();
export type TaskApiWarmAssignmentRequest = z.infer<typeof TaskApiWarmAssignmentRequestSchema>;
export const TASK_API_WARM_WAIT_MS = 20_000;
export const TaskApiWarmAssignmentSchema = z.object({
  assignment: z
    .object({ taskId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/), attempt: z.number().int().positive() })
    .nullable(),
});
export type TaskApiWarmAssignment = z.infer<typeof TaskApiWarmAssignmentSchema>;

// A request body larger than this is refused (413): a conversation's session transcript is the
// largest thing sent.
export const TASK_API_MAX_BODY_BYTES = 64 * 1024 * 1024;
// The client sends events in batches of at most this many bytes (one larger event goes alone).
export const TASK_API_EVENT_BATCH_BYTES = 4 * 1024 * 1024;
export const TASK_API_MAX_EVENTS = 1000;

// Why a token was refused: 401 for the token itself, 409 for an attempt that is over.
export const TASK_API_REFUSALS = ['unknown', 'expired', 'revoked', 'attempt-ended'] as const;
export type TaskApiRefusal = (typeof TASK_API_REFUSALS)[number];

const AbsolutePathSchema = z
  .string()
  .min(2)
  .max(4096)
  .regex(/^\/[^\0]*$/, 'must be an absolute path');

// The task and attempt the pod was started for (its Job's command): checked against the token's
// before anything is claimed.
export const TaskApiClaimRequestSchema = z
  .object({
    taskId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a task id'),
    attempt: z.number().int().positive(),
    workspace: AbsolutePathSchema,
  })
  .strict();
export type TaskApiClaimRequest = z.infer<typeof TaskApiClaimRequestSchema>;

// What the pod needs to run its attempt. `git`: the task's repository host and the credential
// offered to it (that host only), or null without a remote repository.
export const TaskApiClaimSchema = z.object({
  task: TaskSchema,
  profile: AgentProfileSchema,
  git: z.object({ host: z.string(), credential: GitCredentialSchema.nullable() }).nullable(),
});
export type TaskApiClaim = z.infer<typeof TaskApiClaimSchema>;

// `task.status` events are Hangar's own, written by the runner at each transition.
const PodEventSchema = AgentEventSchema.refine((event) => event.type !== 'task.status', {
  message: 'task.status events are written by the runner',
  path: ['type'],
});
export const TaskApiEventsRequestSchema = z
  .object({ events: z.array(PodEventSchema).min(1).max(TASK_API_MAX_EVENTS) })
  .strict();
export type TaskApiEventsRequest = z.infer<typeof TaskApiEventsRequestSchema>;

export const TaskApiHeartbeatSchema = z.object({ cancelRequested: z.boolean() });
export const TaskApiApprovalWaitSchema = z.object({ waitedMs: z.number().int().nonnegative() });
export type TaskApiHeartbeat = z.infer<typeof TaskApiHeartbeatSchema>;

const CommitSchema = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a commit id');
export const TaskApiWorkspaceRequestSchema = z
  .object({
    dir: AbsolutePathSchema,
    branch: z.string().min(1).max(255).nullable(),
    baseCommit: CommitSchema.nullable(),
  })
  .strict();
export type TaskApiWorkspaceRequest = z.infer<typeof TaskApiWorkspaceRequestSchema>;

// A conversation's agent session between turns: the CLI's transcript file, under its config dir.
export const TaskApiSessionSchema = z
  .object({
    sessionId: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be a session id'),
    relativePath: z
      .string()
      .max(1024)
      .refine(
        (value) =>
          value.length > 0 &&
          !value.startsWith('/') &&
          value.split('/').every((part) => part !== '' && part !== '.' && part !== '..'),
        'must be a relative path without . or .. parts',
      ),
    // base64
    transcript: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
  })
  .strict();
export type TaskApiSession = z.infer<typeof TaskApiSessionSchema>;
export const TaskApiSessionAnswerSchema = z.object({ session: TaskApiSessionSchema.nullable() });
export type TaskApiSessionAnswer = z.infer<typeof TaskApiSessionAnswerSchema>;

export const TaskApiDiffRequestSchema = TaskDiffSchema.omit({ taskId: true }).strict();
export type TaskApiDiffRequest = z.infer<typeof TaskApiDiffRequestSchema>;

export const TaskApiAnswerRequestSchema = z.object({ content: z.string() }).strict();
export type TaskApiAnswerRequest = z.infer<typeof TaskApiAnswerRequestSchema>;

// How the attempt ended, as the run measured it (libs/db RunOutcome).
export const TaskApiFinishRequestSchema = z
  .object({
    status: z.enum(['COMPLETED', 'FAILED', 'CANCELLED']),
    result: z.string().nullable().optional(),
    costUsd: z.number().nonnegative().nullable().optional(),
    usage: TaskUsageSchema.nullable().optional(),
    numTurns: z.number().int().nonnegative().nullable().optional(),
    durationMs: z.number().int().nonnegative().nullable().optional(),
    agentSessionId: z.string().max(200).nullable().optional(),
    exitCode: z.number().int().nullable().optional(),
    error: z.string().max(100_000).nullable().optional(),
    checkResult: TaskCheckResultSchema.nullable().optional(),
  })
  .strict();
export type TaskApiFinishRequest = z.infer<typeof TaskApiFinishRequestSchema>;

// The task once finished (or requeued); null when the attempt was no longer the task's.
export const TaskApiFinishedSchema = z.object({ task: TaskSchema.nullable() });
export type TaskApiFinished = z.infer<typeof TaskApiFinishedSchema>;

// A runner-shutdown: the attempt gives the task back to the queue (the reason is the runner's).
export const TaskApiEmptyRequestSchema = z.object({}).strict();
