import {
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { from, mergeMap, type Observable } from 'rxjs';
import { AUDIT_ACTION } from './audited.decorator';
import { AuditTrail } from './audit-trail';
import { currentRequestContext } from './request-context';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

// Every successful change through the API is written to the audit log before the response
// goes out, so a client that got its answer can find the entry.
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger(AuditInterceptor.name);

  constructor(
    private readonly trail: AuditTrail,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    if (READS.has(request.method)) return next.handle();
    const action =
      this.reflector.get<string | undefined>(AUDIT_ACTION, context.getHandler()) ??
      `${request.method} ${(request.route as { path?: string } | undefined)?.path ?? request.path}`;
    const requestContext = currentRequestContext();
    if (requestContext) requestContext.auditAction = action;
    return next.handle().pipe(
      mergeMap((body: unknown) =>
        from(
          (async () => {
            // Unauthenticated doors (webhooks, sign-in) record their own entries; a change's own
            // statement may have written it (AuditTrail.withChange).
            if (requestContext) await this.trail.recordRequest();
            else this.logger.warn(`${action}: no request context; not audited`);
            return body;
          })(),
        ),
      ),
    );
  }
}
