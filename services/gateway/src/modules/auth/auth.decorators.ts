import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { Request } from 'express';

export const IS_PUBLIC = 'hangar:public';

// Routes under /api/ that answer without a caller: sign-in.
export const Public = () => SetMetadata(IS_PUBLIC, true);

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

// The caller of an /api/ route, set by the AuthGuard.
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal on a route the AuthGuard did not authenticate');
  return principal;
});
