import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@hangar/auth';
import type { CreatedWebhook, DeliveryPage, Webhook, WebhookDelivery } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import {
  CreatedWebhookDto,
  DeliveryPageDto,
  ProblemDto,
  ProjectQueryDto,
  WebhookDeliveryDto,
  WebhookDto,
  WebhookListDto,
} from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { CreateWebhookDto, ListDeliveriesQueryDto, UpdateWebhookDto } from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @ApiOkResponse({ type: WebhookListDto })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
  ): Promise<{ items: Webhook[] }> {
    return { items: await this.webhooks.list(principal, query.project) };
  }

  // The answer carries the signing secret, once.
  @Post()
  @Audited('webhook.create')
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: CreateWebhookDto,
  ): Promise<CreatedWebhook> {
    return this.webhooks.create(principal, query.project, body);
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookDto })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Webhook> {
    return this.webhooks.get(principal, id);
  }

  @Patch(':id')
  @Audited('webhook.update')
  @ApiOkResponse({ type: WebhookDto })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: UpdateWebhookDto,
  ): Promise<Webhook> {
    return this.webhooks.update(principal, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @Audited('webhook.delete')
  remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.webhooks.delete(principal, id);
  }
}

@ApiTags('webhooks')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/webhook-deliveries')
export class WebhookDeliveriesController {
  constructor(private readonly webhooks: WebhooksService) {}

  // Newest first: every delivery, what it matched and what came of it.
  @Get()
  @ApiOkResponse({ type: DeliveryPageDto })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListDeliveriesQueryDto,
  ): Promise<DeliveryPage> {
    return this.webhooks.listDeliveries(principal, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookDeliveryDto })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WebhookDelivery> {
    return this.webhooks.getDelivery(principal, id);
  }

  @Post(':id/redeliver')
  @HttpCode(202)
  @Audited('delivery.redeliver')
  @ApiOkResponse({ type: WebhookDeliveryDto })
  redeliver(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WebhookDelivery> {
    return this.webhooks.redeliver(principal, id);
  }
}
