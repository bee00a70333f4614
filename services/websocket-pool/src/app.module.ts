import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@hangar/platform';
import { WEBSOCKET_POOL_CONFIG, type WebsocketPoolConfig } from './config';
import { RealtimeModule } from './modules/realtime/realtime.module';

@Module({})
export class AppModule {
  static forRoot(config: WebsocketPoolConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [PlatformModule.forRoot('websocket-pool', config), RealtimeModule],
      providers: [{ provide: WEBSOCKET_POOL_CONFIG, useValue: config }],
      exports: [WEBSOCKET_POOL_CONFIG],
    };
  }
}
