import { Injectable } from '@nestjs/common';
import { randomSecret, type Principal } from '@hangar/auth';
import {
  HangarError,
  type CreateWebhookRequest,
  type CreatedWebhook,
  type DeliveryPage,
  type ListDeliveriesQuery,
  type UpdateWebhookRequest,
  type Webhook,
  type WebhookCommand,
  type WebhookDelivery,
  type WebhookProvider,
} from '@hangar/contracts';
import {
  ProfileRepository,
  WebhookConfigRepository,
  WebhookDeliveryRepository,
  type WebhookConfigRecord,
} from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';
import { checkTemplate } from './prompt-template';
import { WebhookQueues } from './webhook-queues';

// Which triggers each provider's events can fire.
const TRIGGERS: Record<WebhookProvider, readonly WebhookCommand['trigger']['type'][]> = {
  github: ['mention', 'label', 'event'],
  slack: ['mention', 'slash', 'event'],
  jira: ['mention', 'label', 'status', 'event'],
  sentry: ['event'],
};

export function toWebhook(record: WebhookConfigRecord): Webhook {
  return {
    id: record.id,
    project: record.project,
    provider: record.provider,
    name: record.name,
    path: `/webhooks/${record.provider}/${record.id}`,
    prefix: record.prefix,
    commands: record.commands,
    enabled: record.enabled,
    apiUrl: record.apiUrl,
    credentials: Object.keys(record.credentials).sort(),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

// Webhook configurations: read by every member, changed by the project's admins; their
// deliveries, and delivering one again.
@Injectable()
export class WebhooksService {
  constructor(
    private readonly configs: WebhookConfigRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly profiles: ProfileRepository,
    private readonly queues: WebhookQueues,
    private readonly audit: AuditTrail,
  ) {}

  async list(principal: Principal, project?: string): Promise<Webhook[]> {
    return (await this.configs.list(principal.visibleIds(project))).map(toWebhook);
  }

  async get(principal: Principal, id: string): Promise<Webhook> {
    return toWebhook(await this.configs.getVisible(id, principal.projectIds));
  }

  async create(
    principal: Principal,
    project: string | undefined,
    input: CreateWebhookRequest,
  ): Promise<CreatedWebhook> {
    const access = principal.require(principal.project(project).id, 'admin');
    await this.checkCommands(access.id, input.provider, input.commands);
    const secret = input.secret ?? randomSecret('', 40);
    const created = await this.configs.create({
      projectId: access.id,
      provider: input.provider,
      name: input.name,
      secret,
      credentials: input.credentials ?? {},
      apiUrl: input.apiUrl ?? null,
      prefix: input.prefix,
      commands: input.commands,
      enabled: input.enabled,
    });
    this.audit.touched({
      projectId: access.id,
      target: { type: 'webhook', id: created.id },
      details: { provider: created.provider, name: created.name },
    });
    return { ...toWebhook(created), secret };
  }

  async update(principal: Principal, id: string, input: UpdateWebhookRequest): Promise<Webhook> {
    const current = await this.configs.getVisible(id, principal.projectIds);
    principal.require(current.projectId, 'admin');
    if (input.commands) await this.checkCommands(current.projectId, current.provider, input.commands);
    const updated = await this.configs.update(id, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.secret !== undefined ? { secret: input.secret } : {}),
      ...(input.prefix !== undefined ? { prefix: input.prefix } : {}),
      ...(input.commands !== undefined ? { commands: input.commands } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.apiUrl !== undefined ? { apiUrl: input.apiUrl } : {}),
      // Credentials given are merged in: a PATCH of one key keeps the others.
      ...(input.credentials !== undefined
        ? { credentials: { ...current.credentials, ...input.credentials } }
        : {}),
    });
    this.audit.touched({
      projectId: current.projectId,
      target: { type: 'webhook', id },
      details: { changed: Object.keys(input) },
    });
    return toWebhook(updated);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const current = await this.configs.getVisible(id, principal.projectIds);
    principal.require(current.projectId, 'admin');
    await this.configs.delete(id);
    this.audit.touched({
      projectId: current.projectId,
      target: { type: 'webhook', id },
      details: { name: current.name },
    });
  }

  listDeliveries(principal: Principal, query: ListDeliveriesQuery): Promise<DeliveryPage> {
    return this.deliveries.list(principal.visibleIds(query.project), query);
  }

  getDelivery(principal: Principal, id: string): Promise<WebhookDelivery> {
    return this.deliveries.getVisible(id, principal.projectIds);
  }

  // Processes a verified delivery again (after fixing a command, say), as if it had just come.
  async redeliver(principal: Principal, id: string): Promise<WebhookDelivery> {
    const delivery = await this.deliveries.getVisible(id, principal.projectIds);
    const projectId = principal.projects.find((project) => project.slug === delivery.project)?.id ?? '';
    principal.require(projectId, 'admin');
    if (delivery.status === 'rejected') {
      throw new HangarError(
        'INVALID_TRANSITION',
        'a rejected delivery has no verified body to process again',
      );
    }
    if (delivery.status === 'queued' || delivery.status === 'waiting') {
      throw new HangarError('INVALID_TRANSITION', `delivery ${id} is ${delivery.status} already`);
    }
    await this.deliveries.requeue(id);
    await this.queues.enqueueDelivery(id);
    this.audit.touched({ projectId, target: { type: 'delivery', id } });
    return this.deliveries.getVisible(id, principal.projectIds);
  }

  // What zod cannot see: templates that do not parse, triggers the provider never sends,
  // profiles that do not exist.
  private async checkCommands(projectId: string, provider: WebhookProvider, commands: WebhookCommand[]) {
    const names = new Set((await this.profiles.list(projectId)).map((profile) => profile.name));
    commands.forEach((command, index) => {
      const at = `commands.${index}`;
      if (!TRIGGERS[provider].includes(command.trigger.type)) {
        throw new HangarError(
          'INVALID_COMMAND',
          `${provider} sends nothing a ${command.trigger.type} trigger fires on (it has: ${TRIGGERS[provider].join(', ')})`,
          { field: `${at}.trigger.type` },
        );
      }
      const action = command.action;
      if (action.type === 'create_task' || action.type === 'comment')
        checkTemplate(action.template, `${at}.action.template`);
      if (action.type === 'create_task') {
        if (action.repository !== undefined) checkTemplate(action.repository, `${at}.action.repository`);
        if (action.profile !== undefined && !names.has(action.profile)) {
          throw new HangarError(
            'UNKNOWN_PROFILE',
            `profile "${action.profile}" does not exist in this project`,
            {
              field: `${at}.action.profile`,
            },
          );
        }
      }
      if ((action.type === 'react' || action.type === 'label') && provider === 'sentry') {
        throw new HangarError('INVALID_COMMAND', `sentry webhooks cannot ${action.type}`, {
          field: `${at}.action.type`,
        });
      }
    });
  }
}
