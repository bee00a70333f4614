import { ClientsModule, Transport } from '@nestjs/microservices';
import { redisOptionsFromUrl } from '@hangar/redis';

export const RUNNER_CLIENT = Symbol('RUNNER_CLIENT');

export function runnerClientModule(redisUrl: string) {
  return ClientsModule.register([{ name: RUNNER_CLIENT, transport: Transport.REDIS, options: redisOptionsFromUrl(redisUrl) }]);
}
