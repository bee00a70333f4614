import {
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Module,
  ServiceUnavailableException,
  type DynamicModule,
  type InjectionToken,
} from '@nestjs/common';
import type { Registry } from 'prom-client';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const READINESS_CHECK = Symbol('READINESS_CHECK');

// Resolves when the service can do its work (dependencies answer); throws a reason otherwise.
export type ReadinessCheck = () => Promise<void>;

@Controller()
class HealthController {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(READINESS_CHECK) private readonly readiness: ReadinessCheck,
  ) {}

  @Get('health/live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready() {
    try {
      await this.readiness();
      return { status: 'ok' };
    } catch (error) {
      throw new ServiceUnavailableException(error instanceof Error ? error.message : String(error));
    }
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics() {
    return this.registry.metrics();
  }
}

@Module({})
export class HealthModule {
  static forRoot(options: { registry: Registry; readiness: ReadinessCheck }): DynamicModule {
    return HealthModule.forRootAsync({
      registry: options.registry,
      inject: [],
      readiness: () => options.readiness,
    });
  }

  // Readiness that needs the service's own providers (a database client, a queue…).
  static forRootAsync<TDeps extends unknown[]>(options: {
    registry: Registry;
    inject: { [K in keyof TDeps]: InjectionToken };
    readiness: (...deps: TDeps) => ReadinessCheck;
  }): DynamicModule {
    return {
      module: HealthModule,
      global: true,
      controllers: [HealthController],
      providers: [
        { provide: METRICS_REGISTRY, useValue: options.registry },
        {
          provide: READINESS_CHECK,
          inject: options.inject,
          useFactory: (...deps: unknown[]) => options.readiness(...(deps as TDeps)),
        },
      ],
      exports: [METRICS_REGISTRY],
    };
  }
}
