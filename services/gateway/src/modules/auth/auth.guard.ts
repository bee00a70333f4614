import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { parse as parseCookies } from 'cookie';
import { Authenticator, type Principal } from '@hangar/auth';
import { HangarError } from '@hangar/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { currentRequestContext } from '../../common/request-context';
import { IS_PUBLIC, type AuthenticatedRequest } from './auth.decorators';
import { SESSION_COOKIE } from './session-cookie';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// Everything under /api/ needs a caller: an API token (Authorization: Bearer hgr_…) or a
// dashboard session cookie. Webhooks (/webhooks/) prove themselves by signature instead;
// health and metrics are open.
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly reflector: Reflector,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!isApiRoute(request)) return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) {
      return true;
    }
    const principal = await this.authenticate(request);
    request.principal = principal;
    const requestContext = currentRequestContext();
    if (requestContext) requestContext.principal = principal;
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Principal> {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const token = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)?.[1];
      if (!token) throw new HangarError('UNAUTHENTICATED', 'Authorization must be "Bearer <API token>"');
      return this.authenticator.fromToken(token);
    }
    const session = parseCookies(request.headers.cookie ?? '')[SESSION_COOKIE];
    if (session) {
      if (!SAFE_METHODS.has(request.method)) this.refuseCrossSite(request);
      return this.authenticator.fromSession(session);
    }
    throw new HangarError(
      'UNAUTHENTICATED',
      'sign in (POST /api/v1/auth/login) or send an API token: Authorization: Bearer hgr_…',
    );
  }

  // The cookie is SameSite=Lax already; this also refuses a cross-site change from a browser
  // that ignores SameSite.
  private refuseCrossSite(request: AuthenticatedRequest): void {
    const site = request.headers['sec-fetch-site'];
    const origin = request.headers.origin;
    const sameOrigin =
      origin === undefined ||
      this.config.GATEWAY_CORS_ORIGINS.includes(origin) ||
      hostOf(origin) === request.headers.host ||
      (this.config.TRUST_PROXY > 0 && hostOf(origin) === request.headers['x-forwarded-host']);
    if (site === 'cross-site' || !sameOrigin) {
      throw new HangarError('FORBIDDEN', 'a change from another site with the session cookie is refused');
    }
  }
}

// Decided on the route the router matched (`/api/v1/tasks/:id`), not on the path as the client
// spelled it: the two can never disagree about which door this is. No route: fail closed.
function isApiRoute(request: AuthenticatedRequest): boolean {
  const route = (request.route as { path?: unknown } | undefined)?.path;
  return typeof route !== 'string' || route.startsWith('/api/');
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
