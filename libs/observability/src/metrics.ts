import { Registry, collectDefaultMetrics } from 'prom-client';

// One registry per service process, labelled with the service name.
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
