// First, before anything else loads: V8's settings (libs/platform/src/runtime-flags.ts).
import '@hangar/platform/runtime-lean';
import 'reflect-metadata';
import { loadConfig } from '@hangar/config';
import { startService } from '@hangar/platform';
import { AppModule } from './app.module';
import { MetricsConfigSchema } from './config';

const config = loadConfig('metrics', MetricsConfigSchema);
void startService({
  name: 'metrics',
  config,
  port: config.METRICS_PORT,
  module: AppModule.forRoot(config),
});
