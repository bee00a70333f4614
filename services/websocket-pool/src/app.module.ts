import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@hangar/platform';
import { WEBSOCKET_POOL_CONFIG, type WebsocketPoolConfig } from './config';
import { StreamingModule } from './modules/streaming/streaming.module';

@Module({})
export class AppModule {
  static forRoot(config: WebsocketPoolConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [PlatformModule.forRoot('websocket-pool', config), StreamingModule],
      providers: [{ provide: WEBSOCKET_POOL_CONFIG, useValue: config }],
      exports: [WEBSOCKET_POOL_CONFIG],
    };
  }
}
