import { ClientsModule, Transport } from '@nestjs/microservices';
import { redisOptionsFromUrl } from '@hangar/redis';

export const ORCHESTRATOR_CLIENT = Symbol('ORCHESTRATOR_CLIENT');

export function orchestratorClientModule(redisUrl: string) {
  return ClientsModule.register([
    { name: ORCHESTRATOR_CLIENT, transport: Transport.REDIS, options: redisOptionsFromUrl(redisUrl) },
  ]);
}
