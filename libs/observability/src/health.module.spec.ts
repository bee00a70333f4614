import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { HealthModule } from './health.module';
import { createMetricsRegistry } from './metrics';

async function boot(readiness: () => Promise<void>): Promise<{ app: INestApplication; base: string }> {
  @Module({ imports: [HealthModule.forRoot({ registry: createMetricsRegistry('probe'), readiness })] })
  class ProbeModule {}
  const app = await NestFactory.create(ProbeModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, base: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

describe(HealthModule.name, () => {
  it('should answer live, ready and metrics labelled with the service when dependencies answer', async () => {
    const { app, base } = await boot(async () => undefined);
    try {
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toMatch(/process_cpu_user_seconds_total\{service="probe"\}/);
    } finally {
      await app.close();
    }
  });

  it('should answer 503 with the reason when a dependency is down', async () => {
    const { app, base } = await boot(async () => {
      throw new Error('cannot reach Redis at 127.0.0.1:1');
    });
    try {
      const response = await fetch(`${base}/health/ready`);
      expect(response.status).toBe(503);
      expect(JSON.stringify(await response.json())).toContain('cannot reach Redis at 127.0.0.1:1');
    } finally {
      await app.close();
    }
  });
});
