import { Module } from '@nestjs/common';
import { TaskDeliveryService } from './task-delivery.service';
import { TaskStreamGateway } from './task-stream.gateway';

@Module({ providers: [TaskStreamGateway, TaskDeliveryService] })
export class StreamingModule {}
