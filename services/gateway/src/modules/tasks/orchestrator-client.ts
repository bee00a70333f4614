import { ClientsModule } from '@nestjs/microservices';
import { redisTransportClient } from '@hangar/redis';

export const ORCHESTRATOR_CLIENT = Symbol('ORCHESTRATOR_CLIENT');

export function orchestratorClientModule(redisUrl: string, prefix: string) {
  return ClientsModule.register([redisTransportClient(ORCHESTRATOR_CLIENT, redisUrl, prefix)]);
}
