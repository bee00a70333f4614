import { Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { SocketEvents, SubscribeRequestSchema, type SubscribeAck } from '@hangar/contracts';
import { TaskRepository } from '@hangar/db';
import { TaskDeliveryService, type Delivery } from './task-delivery.service';

// Socket.IO door of the websocket-pool: subscribe to a task from a sequence number.
@WebSocketGateway({ cors: { origin: true, credentials: true } })
export class TaskStreamGateway implements OnGatewayDisconnect {
  private readonly logger = new Logger(TaskStreamGateway.name);
  private readonly deliveries = new WeakMap<Socket, Map<string, Delivery>>();

  constructor(
    private readonly tasks: TaskRepository,
    private readonly delivery: TaskDeliveryService,
  ) {}

  @SubscribeMessage(SocketEvents.subscribe)
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    const parsed = SubscribeRequestSchema.safeParse(body);
    if (!parsed.success) {
      const message = parsed.error.issues
        .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
        .join('; ');
      return { ok: false, error: { code: 'INVALID_REQUEST', message } };
    }
    const { taskId, afterSeq = 0 } = parsed.data;
    if (!(await this.tasks.find(taskId))) {
      return { ok: false, error: { code: 'TASK_NOT_FOUND', message: `task ${taskId} does not exist` } };
    }
    const mine = this.deliveries.get(socket) ?? new Map<string, Delivery>();
    this.deliveries.set(socket, mine);
    mine.get(taskId)?.stop();
    // The ack goes out before the first event: delivery starts on the next tick.
    setImmediate(() => {
      if (socket.disconnected) return;
      const delivery = this.delivery.start(taskId, afterSeq, (event) =>
        socket.emit(SocketEvents.taskEvent, event),
      );
      mine.set(taskId, delivery);
      void delivery.done.then(() => {
        if (mine.get(taskId) === delivery) mine.delete(taskId);
      });
    });
    return { ok: true, taskId, afterSeq };
  }

  @SubscribeMessage(SocketEvents.unsubscribe)
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): { ok: true } {
    const taskId = typeof body === 'object' && body !== null && 'taskId' in body ? String(body.taskId) : '';
    const mine = this.deliveries.get(socket);
    mine?.get(taskId)?.stop();
    mine?.delete(taskId);
    return { ok: true };
  }

  handleDisconnect(socket: Socket) {
    const mine = this.deliveries.get(socket);
    if (!mine) return;
    for (const delivery of mine.values()) delivery.stop();
    this.logger.debug(`socket ${socket.id} left; ${mine.size} deliveries stopped`);
    this.deliveries.delete(socket);
  }
}
