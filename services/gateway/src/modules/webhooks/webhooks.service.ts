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
import { WorkflowRunsService } from '../workflows/workflow-runs.service';
import { WebhookEgress, refusalOf } from './clients/provider-egress';
import { patternError } from './condition-pattern';
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
    authorAssociations: record.provider === 'github' ? record.authorAssociations : null,
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
    private readonly workflowRuns: WorkflowRunsService,
    private readonly queues: WebhookQueues,
    private readonly audit: AuditTrail,
    private readonly egress: WebhookEgress,
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
    if (input.apiUrl) await this.checkApiUrl(input.apiUrl);
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
      authorAssociations: input.authorAssociations,
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
    if (input.authorAssociations !== undefined && current.provider !== 'github') {
      throw new HangarError(
        'VALIDATION_FAILED',
        'only GitHub deliveries say who wrote them (author_association)',
        {
          field: 'authorAssociations',
        },
      );
    }
    const movesApi = input.apiUrl !== undefined && input.apiUrl !== current.apiUrl;
    if (movesApi && input.apiUrl) await this.checkApiUrl(input.apiUrl);
    const updated = await this.configs.update(id, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.secret !== undefined ? { secret: input.secret } : {}),
      ...(input.prefix !== undefined ? { prefix: input.prefix } : {}),
      ...(input.commands !== undefined ? { commands: input.commands } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.apiUrl !== undefined ? { apiUrl: input.apiUrl } : {}),
      ...(input.authorAssociations !== undefined ? { authorAssociations: input.authorAssociations } : {}),
      // Credentials given are merged in: a PATCH of one key keeps the others. A new apiUrl keeps
      // none: the stored token must not follow the URL to whoever points it at their own server.
      ...(movesApi
        ? { credentials: input.credentials ?? {} }
        : input.credentials !== undefined
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

  // The gateway posts credentials there and shows what it answers: never to an address inside.
  private async checkApiUrl(apiUrl: string) {
    const refusal = await refusalOf(apiUrl, this.egress.allowHosts);
    if (refusal) {
      throw new HangarError('VALIDATION_FAILED', `apiUrl ${apiUrl} is refused: ${refusal}`, {
        field: 'apiUrl',
      });
    }
  }

  // What zod cannot see: templates that do not parse, triggers the provider never sends,
  // profiles and workflows that do not exist.
  private async checkCommands(projectId: string, provider: WebhookProvider, commands: WebhookCommand[]) {
    const names = new Set((await this.profiles.list(projectId)).map((profile) => profile.name));
    for (const [index, command] of commands.entries()) {
      const at = `commands.${index}`;
      if (!TRIGGERS[provider].includes(command.trigger.type)) {
        throw new HangarError(
          'INVALID_COMMAND',
          `${provider} sends nothing a ${command.trigger.type} trigger fires on (it has: ${TRIGGERS[provider].join(', ')})`,
          { field: `${at}.trigger.type` },
        );
      }
      command.conditions.forEach((condition, conditionIndex) => {
        const problem = condition.op === 'matches' ? patternError(String(condition.value)) : undefined;
        if (problem) {
          throw new HangarError('VALIDATION_FAILED', problem, {
            field: `${at}.conditions.${conditionIndex}.value`,
          });
        }
      });
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
      if (action.type === 'start_workflow') {
        for (const [name, template] of Object.entries(action.inputs))
          checkTemplate(template, `${at}.action.inputs.${name}`);
        const [problem] = await this.workflowRuns.webhookStartProblems(
          projectId,
          action.workflow,
          Object.keys(action.inputs),
        );
        if (problem) {
          throw new HangarError('INVALID_COMMAND', `${at}.action.${problem.field}: ${problem.message}`, {
            field: `${at}.action.${problem.field}`,
          });
        }
      }
      if ((action.type === 'react' || action.type === 'label') && provider === 'sentry') {
        throw new HangarError('INVALID_COMMAND', `sentry webhooks cannot ${action.type}`, {
          field: `${at}.action.type`,
        });
      }
    }
  }
}
