import { z } from 'zod';
import type { Approval, ApprovalAnswerMessage } from './approvals';
import { MessageSchema } from './conversation';
import { TaskStatusSchema } from './task';
import { WorkflowRunStatusSchema, WorkflowStepRunSchema } from './workflows';

// The Socket.IO protocol of the websocket-pool (docs/realtime.md). One namespace, versioned.
export const SOCKET_NAMESPACE = '/v1';

export const SocketEvents = {
  // client → server, with an ack
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  // Answers a tool call waiting for approval (ApprovalAnswerMessage; docs/governance.md).
  answerApproval: 'approval:answer',
  // server → client
  hello: 'hello',
  events: 'events',
  resync: 'resync',
  drain: 'drain',
} as const;

// task:<task id> | conversation:<conversation id> | project:<project slug> | workflow-run:<run id>
export const TOPIC_KINDS = ['task', 'conversation', 'project', 'workflow-run'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];
export const TopicSchema = z
  .string()
  .regex(
    /^(task|conversation|project|workflow-run):[A-Za-z0-9_-]{1,100}$/,
    'must be task:<id>, conversation:<id>, project:<slug> or workflow-run:<id>',
  );
export type Topic = z.infer<typeof TopicSchema>;

export function parseTopic(topic: Topic): { kind: TopicKind; id: string } {
  const at = topic.indexOf(':');
  return { kind: topic.slice(0, at) as TopicKind, id: topic.slice(at + 1) };
}

export const SubscribeRequestSchema = z
  .object({
    topic: TopicSchema,
    // The last sequence number the client has; the backlog after it comes first, then live.
    afterSeq: z.number().int().nonnegative().optional(),
  })
  .strict();
export type SubscribeRequest = z.infer<typeof SubscribeRequestSchema>;

export const UnsubscribeRequestSchema = z.object({ topic: TopicSchema }).strict();
export type UnsubscribeRequest = z.infer<typeof UnsubscribeRequestSchema>;

// Ack error codes. UNKNOWN covers "does not exist" and "not yours" alike (nothing is told
// about other projects); FORBIDDEN is a project the caller is in without the role it needs.
export const SOCKET_ERROR_CODES = [
  'INVALID_REQUEST',
  'UNKNOWN',
  'FORBIDDEN',
  'TOO_MANY_SUBSCRIPTIONS',
  // An approval answered already or past its deadline.
  'CONFLICT',
  'INTERNAL',
] as const;
export type SocketErrorCode = (typeof SOCKET_ERROR_CODES)[number];

export type SubscribeAck =
  | { ok: true; topic: Topic; afterSeq: number }
  | { ok: false; error: { code: SocketErrorCode; message: string } };
export type UnsubscribeAck =
  { ok: true; topic: Topic } | { ok: false; error: { code: SocketErrorCode; message: string } };

export type AnswerApprovalAck =
  { ok: true; approval: Approval } | { ok: false; error: { code: SocketErrorCode; message: string } };

// Why a handshake is refused: `connect_error` carries the message, and `data.code` one of these.
export const CONNECT_ERROR_CODES = ['UNAUTHENTICATED', 'OVERLOADED', 'DRAINING'] as const;
export type ConnectErrorCode = (typeof CONNECT_ERROR_CODES)[number];

// What a project topic carries: task status changes and the counts after them, not every token.
export const ProjectActivitySchema = z.object({
  type: z.literal('task.status'),
  data: z.object({
    taskId: z.string(),
    status: TaskStatusSchema,
    reason: z.string().optional(),
    counts: z.object({ queued: z.number().int(), running: z.number().int() }),
  }),
});
export type ProjectActivity = z.infer<typeof ProjectActivitySchema>;

// What a conversation topic carries: its messages, and the status of its turns (watch a turn's
// own task topic for its live output).
export const ConversationActivitySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message.created'), data: MessageSchema }),
  z.object({
    type: z.literal('turn.status'),
    data: z.object({ taskId: z.string(), status: TaskStatusSchema, reason: z.string().optional() }),
  }),
]);
export type ConversationActivity = z.infer<typeof ConversationActivitySchema>;

// What a workflow-run topic carries: each change of a step (as GET /api/v1/workflow-runs/:id
// shows the step after it) and of the run. Watch a step's task topic for its agent's output.
export const WorkflowRunActivitySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('step.status'), data: WorkflowStepRunSchema }),
  z.object({
    type: z.literal('run.status'),
    data: z.object({
      status: WorkflowRunStatusSchema,
      error: z.string().nullable(),
      outputs: z.record(z.string(), z.string()).nullable(),
      costUsd: z.number(),
    }),
  }),
]);
export type WorkflowRunActivity = z.infer<typeof WorkflowRunActivitySchema>;

// One entry of a topic: its sequence number (from 1, no gaps), when, and what. On a task topic,
// type and data are the task's own event (TaskEvent without its taskId: the topic names it).
export interface TopicEvent {
  seq: number;
  at: string;
  type: string;
  data: unknown;
}

// Every `events` message: a topic's next events, one or more, consecutive and in order. Batches
// are how one replica fans thousands of events a second out to hundreds of clients: one frame per
// client per batch, not per event (docs/realtime.md).
export interface TopicEventsMessage {
  topic: Topic;
  events: TopicEvent[];
}

// The client fell behind (its buffer filled) or the history it asked for is gone: subscribe
// again from `afterSeq` (or reload the state over REST when `reload` is set).
export interface ResyncMessage {
  topic: Topic;
  afterSeq: number;
  reason: string;
  reload?: boolean;
}

// The replica is going away: reconnect (to another) and resubscribe from your last sequence numbers.
export interface DrainMessage {
  reason: string;
  reconnectInMs: number;
}

export interface HelloMessage {
  replica: string;
  maxSubscriptions: number;
}

// The protocol's events as Socket.IO's typed maps: what the websocket-pool emits and handles, and
// what its clients (@hangar/topics: the dashboard, the CLI, the tests, the benchmarks) listen for
// and send, named by SocketEvents.
export interface ServerToClientEvents {
  [SocketEvents.hello]: (message: HelloMessage) => void;
  [SocketEvents.events]: (message: TopicEventsMessage) => void;
  [SocketEvents.resync]: (message: ResyncMessage) => void;
  [SocketEvents.drain]: (message: DrainMessage) => void;
}

export interface ClientToServerEvents {
  [SocketEvents.subscribe]: (request: SubscribeRequest, ack: (answer: SubscribeAck) => void) => void;
  [SocketEvents.unsubscribe]: (request: UnsubscribeRequest, ack: (answer: UnsubscribeAck) => void) => void;
  [SocketEvents.answerApproval]: (
    request: ApprovalAnswerMessage,
    ack: (answer: AnswerApprovalAck) => void,
  ) => void;
}
