import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from '@hangar/auth';

// What the audit log needs to know about a change, noted by the service that made it.
export interface AuditNote {
  projectId?: string | null;
  target?: { type: string; id: string };
  details?: Record<string, unknown>;
}

// Per request: who is calling (set by the AuthGuard), from where, and what the request changed.
// Kept in AsyncLocalStorage so services can note audit details without the request object.
export interface RequestContext {
  ip: string;
  userAgent: string | undefined;
  principal?: Principal;
  audit: AuditNote;
  // The request's audit action (the AuditInterceptor's), and whether its entry was written by the
  // statement that made its change (AuditTrail.withChange): then the interceptor writes none.
  auditAction?: string;
  auditWritten?: boolean;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequestContext<T>(context: RequestContext, callback: () => T): T {
  return storage.run(context, callback);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
