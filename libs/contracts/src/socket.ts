import { z } from 'zod';

// Socket.IO protocol between clients and the websocket-pool.
export const SocketEvents = {
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  taskEvent: 'task.event',
} as const;

export const SubscribeRequestSchema = z
  .object({
    taskId: z.string().min(1),
    afterSeq: z.number().int().nonnegative().optional(),
  })
  .strict();
export type SubscribeRequest = z.infer<typeof SubscribeRequestSchema>;

export const SOCKET_ERROR_CODES = ['INVALID_REQUEST', 'TASK_NOT_FOUND', 'INTERNAL'] as const;
export type SocketErrorCode = (typeof SOCKET_ERROR_CODES)[number];

export type SubscribeAck =
  | { ok: true; taskId: string; afterSeq: number }
  | { ok: false; error: { code: SocketErrorCode; message: string } };
