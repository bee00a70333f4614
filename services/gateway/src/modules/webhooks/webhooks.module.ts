import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { WebhookEgress } from './clients/provider-egress';
import { DeliveryProcessor } from './delivery-processor';
import { ReplyDispatcher } from './reply-dispatcher';
import { WebhookIntake } from './webhook-intake.service';
import { WebhookQueues } from './webhook-queues';
import { WebhookReceiverController } from './webhook-receiver.controller';
import { WebhookSources } from './webhook-sources';
import { WebhookDeliveriesController, WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [ConversationsModule, WorkflowsModule],
  controllers: [WebhookReceiverController, WebhooksController, WebhookDeliveriesController],
  providers: [
    WebhookEgress,
    WebhookQueues,
    WebhookSources,
    WebhookIntake,
    DeliveryProcessor,
    ReplyDispatcher,
    WebhooksService,
  ],
})
export class WebhooksModule {}
