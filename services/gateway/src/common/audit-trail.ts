import { Injectable } from '@nestjs/common';
import { AuditRepository, type NewAuditEntry } from '@hangar/db';
import { currentTraceId } from '@hangar/observability';
import { currentRequestContext, type AuditNote, type RequestContext } from './request-context';

// Services say what a change touched; the AuditInterceptor writes the entry once the request
// succeeded, with who made it and from where.
@Injectable()
export class AuditTrail {
  constructor(private readonly entries: AuditRepository) {}

  touched(note: AuditNote): void {
    const context = currentRequestContext();
    if (!context) return;
    context.audit = {
      ...context.audit,
      ...note,
      details: { ...context.audit.details, ...note.details },
    };
  }

  // The request's entry for a change whose own statement writes it (one commit for both, the
  // entry only if the change is made), with `note` touched. The interceptor then writes none.
  // Undefined outside an authenticated request (the caller's change is then written alone, as a
  // webhook's is).
  withChange(note: AuditNote): NewAuditEntry | undefined {
    const context = currentRequestContext();
    this.touched(note);
    const entry = context && requestEntry(context);
    if (entry) context.auditWritten = true;
    return entry;
  }

  // The request's entry, once it succeeded (the AuditInterceptor): unless its change wrote it.
  async recordRequest(): Promise<void> {
    const context = currentRequestContext();
    const entry = context && !context.auditWritten ? requestEntry(context) : undefined;
    if (entry) await this.entries.record(entry);
  }

  // For changes made outside a request (webhooks, sign-in failures) or written at once.
  async record(entry: NewAuditEntry): Promise<void> {
    const context = currentRequestContext();
    await this.entries.record({
      ip: context?.ip ?? null,
      userAgent: context?.userAgent ?? null,
      traceId: currentTraceId() ?? null,
      ...entry,
    });
  }
}

// What an authenticated request changed, as its entry: who (its principal), its action (the
// AuditInterceptor's), what services noted, from where.
function requestEntry(context: RequestContext): NewAuditEntry | undefined {
  if (!context.principal || context.auditAction === undefined) return undefined;
  return {
    projectId: context.audit.projectId ?? null,
    actor: context.principal.actor,
    action: context.auditAction,
    target: context.audit.target ?? null,
    details: context.audit.details ?? {},
    ip: context.ip,
    userAgent: context.userAgent ?? null,
    traceId: currentTraceId() ?? null,
  };
}
