'use client';

import { useRuntimeConfig } from '../lib/runtime-config';

// Where a trace is shown (HANGAR_TRACE_URL, e.g. Jaeger's `http://jaeger:16686/trace/{traceId}`):
// the template with the trace id in it; null without a template that names `{traceId}`, or one
// that is not an http(s) address.
export function traceUrl(template: string, traceId: string): string | null {
  if (!template.includes('{traceId}')) return null;
  try {
    const url = new URL(template.replaceAll('{traceId}', encodeURIComponent(traceId)));
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}

// A task's trace (docs/observability.md#one-trace-per-request): a link to it where traces are
// shown, else its id to look up.
export function TraceLink({ traceId }: { traceId: string | null }) {
  const { traceUrl: template } = useRuntimeConfig();
  if (!traceId) return <>—</>;
  const href = traceUrl(template, traceId);
  if (!href) return <code data-testid="task-trace">{traceId}</code>;
  return (
    <a data-testid="task-trace" href={href} target="_blank" rel="noreferrer noopener">
      <code>{traceId}</code>
    </a>
  );
}
