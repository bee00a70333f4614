import { Inject, Injectable } from '@nestjs/common';
import {
  HangarError,
  WebhookProviderSchema,
  type GithubAuthorAssociation,
  type WebhookCommand,
  type WebhookCredentials,
  type WebhookProvider,
} from '@hangar/contracts';
import { ProjectRepository, WebhookConfigRepository } from '@hangar/db';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { builtinCommands } from './builtin-commands';

// One receiver's settings, from the environment (static) or a stored configuration.
export interface WebhookSource {
  // The configuration id, or static:<provider>.
  id: string;
  configId: string | null;
  projectId: string;
  provider: WebhookProvider;
  name: string;
  secret: string;
  prefix: string;
  commands: WebhookCommand[];
  enabled: boolean;
  credentials: WebhookCredentials;
  apiUrl: string | null;
  // GitHub: whose comments, issues and pull requests it acts on.
  authorAssociations: readonly GithubAuthorAssociation[];
}

const STATIC = 'static:';

function notFound(message: string): HangarError {
  return new HangarError('WEBHOOK_NOT_FOUND', message);
}

@Injectable()
export class WebhookSources {
  constructor(
    private readonly configs: WebhookConfigRepository,
    private readonly projects: ProjectRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  // What a request to /webhooks/<provider>[/<id>] is checked against.
  async receiving(providerName: string, configId?: string): Promise<WebhookSource> {
    const provider = WebhookProviderSchema.safeParse(providerName);
    if (!provider.success) {
      throw notFound(`there is no webhook receiver for "${providerName}" (github, slack, jira or sentry)`);
    }
    const source = configId === undefined ? await this.static(provider.data) : await this.stored(configId);
    if (!source || source.provider !== provider.data) {
      throw notFound(`webhook ${configId ?? provider.data} does not exist`);
    }
    if (!source.enabled) throw notFound(`webhook ${source.name} is turned off`);
    return source;
  }

  // For the worker: the source a delivery came through, as it is now.
  async byId(id: string): Promise<WebhookSource | null> {
    if (id.startsWith(STATIC)) {
      const provider = WebhookProviderSchema.safeParse(id.slice(STATIC.length));
      return provider.success ? this.static(provider.data) : null;
    }
    return this.stored(id);
  }

  private async stored(id: string): Promise<WebhookSource | null> {
    const record = await this.configs.find(id);
    if (!record) return null;
    return {
      id: record.id,
      configId: record.id,
      projectId: record.projectId,
      provider: record.provider,
      name: record.name,
      secret: record.secret,
      prefix: record.prefix,
      commands: record.commands,
      enabled: record.enabled,
      credentials: record.credentials,
      apiUrl: record.apiUrl,
      authorAssociations: record.authorAssociations,
    };
  }

  private async static(provider: WebhookProvider): Promise<WebhookSource | null> {
    const config = this.config;
    const settings: Record<
      WebhookProvider,
      {
        secret?: string | undefined;
        credentials: WebhookCredentials;
        apiUrl?: string | undefined;
        variable: string;
      }
    > = {
      github: {
        secret: config.GITHUB_WEBHOOK_SECRET,
        credentials: { ...(config.GITHUB_TOKEN ? { token: config.GITHUB_TOKEN } : {}) },
        apiUrl: config.GITHUB_API_URL,
        variable: 'GITHUB_WEBHOOK_SECRET',
      },
      slack: {
        secret: config.SLACK_SIGNING_SECRET,
        credentials: { ...(config.SLACK_BOT_TOKEN ? { botToken: config.SLACK_BOT_TOKEN } : {}) },
        apiUrl: config.SLACK_API_URL,
        variable: 'SLACK_SIGNING_SECRET',
      },
      jira: {
        secret: config.JIRA_WEBHOOK_SECRET,
        credentials: {
          ...(config.JIRA_EMAIL ? { email: config.JIRA_EMAIL } : {}),
          ...(config.JIRA_API_TOKEN ? { apiToken: config.JIRA_API_TOKEN } : {}),
        },
        apiUrl: config.JIRA_BASE_URL,
        variable: 'JIRA_WEBHOOK_SECRET',
      },
      sentry: { secret: config.SENTRY_CLIENT_SECRET, credentials: {}, variable: 'SENTRY_CLIENT_SECRET' },
    };
    const chosen = settings[provider];
    if (!chosen.secret) {
      throw notFound(`the ${provider} receiver is off: set ${chosen.variable} on the gateway to turn it on`);
    }
    const project = await this.projects.findBySlug(config.WEBHOOK_PROJECT);
    if (!project) {
      throw notFound(
        `WEBHOOK_PROJECT "${config.WEBHOOK_PROJECT}" does not exist: the static receivers have nowhere to work`,
      );
    }
    return {
      id: `${STATIC}${provider}`,
      configId: null,
      projectId: project.id,
      provider,
      name: `${provider} (static)`,
      secret: chosen.secret,
      prefix: config.WEBHOOK_PREFIX,
      commands: builtinCommands(provider, {
        profile: config.WEBHOOK_PROFILE,
        repository: config.WEBHOOK_REPOSITORY,
      }),
      enabled: true,
      credentials: chosen.credentials,
      apiUrl: chosen.apiUrl ?? null,
      authorAssociations: config.GITHUB_WEBHOOK_AUTHOR_ASSOCIATIONS,
    };
  }
}
