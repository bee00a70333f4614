import { ClientsModule } from '@nestjs/microservices';
import { redisTransportClient } from '@hangar/redis';

export const RUNNER_CLIENT = Symbol('RUNNER_CLIENT');

export function runnerClientModule(redisUrl: string, prefix: string) {
  return ClientsModule.register([redisTransportClient(RUNNER_CLIENT, redisUrl, prefix)]);
}
