import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { clientIp } from './rate-limit/rate-limit-keys';
import { runInRequestContext } from './request-context';

// Opens the request's context (who, from where, what changed) for everything that runs after it.
@Injectable()
export class RequestContextMiddleware implements NestMiddleware<Request, Response> {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  use(request: Request, _response: Response, next: NextFunction) {
    runInRequestContext(
      { ip: clientIp(request, this.config.TRUST_PROXY), userAgent: request.headers['user-agent'], audit: {} },
      next,
    );
  }
}
