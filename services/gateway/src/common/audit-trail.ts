import { Injectable } from '@nestjs/common';
import { AuditRepository, type NewAuditEntry } from '@hangar/db';
import { currentTraceId } from '@hangar/observability';
import { currentRequestContext, type AuditNote } from './request-context';

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
