import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '@hangar/config';
import { startService } from '@hangar/platform';
import { AppModule } from './app.module';
import { GatewayConfigSchema } from './config';
import { setupOpenApi } from './openapi';

const config = loadConfig('gateway', GatewayConfigSchema);
void startService({
  name: 'gateway',
  config,
  port: config.GATEWAY_PORT,
  module: AppModule.forRoot(config),
  bodyParser: false,
  configure: (nest) => {
    const app = nest as NestExpressApplication;
    app.useBodyParser('json', { limit: config.GATEWAY_BODY_LIMIT });
    app.disable('x-powered-by');
    setupOpenApi(app);
  },
});
