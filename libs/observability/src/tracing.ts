import { trace } from '@opentelemetry/api';

// Tracing is off unless an OTLP endpoint is configured; then spans go to it over HTTP
// (Jaeger and the OpenTelemetry Collector both accept OTLP/HTTP). The SDK is loaded only then:
// it is a second of CPU at start and tens of MB in every service that would not use it.
/* eslint-disable @typescript-eslint/no-require-imports */
export function initTracing(service: string, endpoint: string | undefined): { shutdown(): Promise<void> } {
  if (!endpoint) return { shutdown: async () => undefined };
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { ATTR_SERVICE_NAME } =
    require('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
    traceExporter: new OTLPTraceExporter({ url: new URL('/v1/traces', endpoint).toString() }),
    instrumentations: [new HttpInstrumentation()],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
/* eslint-enable @typescript-eslint/no-require-imports */

export function currentTraceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}
