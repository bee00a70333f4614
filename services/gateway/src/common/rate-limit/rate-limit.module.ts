import { Inject, Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { RATE_LIMIT_POLICY, RateLimitMiddleware, type RateLimitPolicy } from './rate-limit.middleware';
import { RateLimitStore } from './rate-limit.store';

// The part of the gateway config this module reads.
export interface RateLimitSettings {
  REDIS_URL: string;
  HANGAR_REDIS_PREFIX: string;
  RATE_LIMIT_IP_PER_MINUTE: number;
  RATE_LIMIT_TOKEN_PER_MINUTE: number;
  TRUST_PROXY: number;
}

const RATE_LIMIT_ENABLED = Symbol('RATE_LIMIT_ENABLED');

// Limits every request under /api/ and /webhooks/ per client IP and per bearer token.
@Module({})
export class RateLimitModule implements NestModule {
  constructor(@Inject(RATE_LIMIT_ENABLED) private readonly enabled: boolean) {}

  // `windowSeconds` is for tests: the settings count per minute.
  static forRoot(settings: RateLimitSettings, options: { windowSeconds?: number } = {}): DynamicModule {
    const windowSeconds = options.windowSeconds ?? 60;
    const enabled = settings.RATE_LIMIT_IP_PER_MINUTE > 0 || settings.RATE_LIMIT_TOKEN_PER_MINUTE > 0;
    const policy: RateLimitPolicy = { windowSeconds, trustedProxies: settings.TRUST_PROXY };
    return {
      module: RateLimitModule,
      providers: [
        { provide: RATE_LIMIT_ENABLED, useValue: enabled },
        ...(enabled
          ? [
              { provide: RATE_LIMIT_POLICY, useValue: policy },
              {
                provide: RateLimitStore,
                useFactory: () =>
                  new RateLimitStore({
                    redisUrl: settings.REDIS_URL,
                    prefix: settings.HANGAR_REDIS_PREFIX,
                    limits: {
                      ip: settings.RATE_LIMIT_IP_PER_MINUTE,
                      token: settings.RATE_LIMIT_TOKEN_PER_MINUTE,
                    },
                    windowSeconds,
                  }),
              },
              RateLimitMiddleware,
            ]
          : []),
      ],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    // Health and metrics stay outside: probes and scrapers must never be refused.
    if (this.enabled) consumer.apply(RateLimitMiddleware).forRoutes('api/*path', 'webhooks/*path');
  }
}
