// First, before anything else loads: V8's settings (libs/platform/src/runtime-flags.ts).
import '@hangar/platform/runtime-lean';
import 'reflect-metadata';
import { loadConfig } from '@hangar/config';
import { startService } from '@hangar/platform';
import { AppModule } from './app.module';
import { WebsocketPoolConfigSchema } from './config';
import { HangarIoAdapter } from './modules/realtime/socket-io.adapter';

const config = loadConfig('websocket-pool', WebsocketPoolConfigSchema);
void startService({
  name: 'websocket-pool',
  config,
  port: config.WEBSOCKET_POOL_PORT,
  module: AppModule.forRoot(config),
  configure: (app) => app.useWebSocketAdapter(new HangarIoAdapter(app, config)),
});
