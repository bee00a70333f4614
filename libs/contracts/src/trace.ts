import { z } from 'zod';

// W3C Trace Context (https://www.w3.org/TR/trace-context/): version 00, a 16-byte trace id and an
// 8-byte parent span id in lowercase hex, neither all zeros, and the flags byte.
const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-([0-9a-f]{2})$/;
// What the W3C specification asks a vendor to propagate at least; longer lists may be cut.
export const TRACESTATE_MAX_LENGTH = 512;

// Keys it does not know (baggage, say, from a newer sender) are dropped, not refused.
export const TraceContextSchema = z.object({
  traceparent: z.string().regex(TRACEPARENT, 'must be a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>'),
  tracestate: z.string().min(1).max(TRACESTATE_MAX_LENGTH).optional(),
});
export type TraceContext = z.infer<typeof TraceContextSchema>;

// The trace a message, queue job or stream record was sent in, so one trace runs from a request
// through every service that works on it (docs/observability.md#one-trace-per-request). A
// context that is not one is dropped, not refused: its receiver starts a new trace rather than
// lose the message.
export const TraceEnvelopeField = TraceContextSchema.optional().catch(undefined);

// `schema` with the envelope's `trace` field: every message and job schema is made with it.
export function withTrace<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  return schema.extend({ trace: TraceEnvelopeField });
}

// The trace id a traceparent names.
export function traceIdOf(context: TraceContext): string {
  return context.traceparent.slice(3, 35);
}
