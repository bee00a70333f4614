import { createHash } from 'node:crypto';
import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import type { Request, Response } from 'express';
import { from, mergeMap, type Observable } from 'rxjs';
import { catchError } from 'rxjs/operators';
import { HangarError } from '@hangar/contracts';
import { IdempotencyRepository } from '@hangar/db';
import { currentRequestContext } from './request-context';

const HEADER = 'idempotency-key';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

// Same key and body on the same POST within 24 h: the first response again (marked with
// Idempotent-Replayed); same key, other body: 409. A failed request leaves no record. A secret
// the first response showed once (a new token, a webhook's secret) is never stored: the replay
// leaves it out and names it in Idempotent-Withheld.
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly keys: IdempotencyRepository,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const key = request.headers[HEADER];
    // Keys belong to their caller: two callers never see each other's answers.
    const principal = currentRequestContext()?.principal;
    if (request.method !== 'POST' || key === undefined || !principal) return next.handle();
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      throw new HangarError(
        'INVALID_IDEMPOTENCY_KEY',
        'Idempotency-Key must be 1 to 255 visible ASCII characters',
        {
          field: 'Idempotency-Key',
        },
      );
    }
    const response = http.getResponse<Response>();
    // `/api/v1/tasks/` is the same route as `/api/v1/tasks` (routing ignores a trailing slash).
    const scope = `${principal.actor.type}:${principal.actor.id} POST ${request.path.replace(/\/+$/, '')}`;
    const hash = createHash('sha256').update(canonicalJson(request.body)).digest('hex');
    const status = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ?? 201;

    return from(this.keys.claim(scope, key, hash)).pipe(
      mergeMap((claim) => {
        switch (claim.kind) {
          case 'replay':
            response.setHeader('Idempotent-Replayed', 'true');
            if (claim.withheld.length > 0)
              response.setHeader('Idempotent-Withheld', claim.withheld.join(', '));
            return from([claim.body]);
          case 'conflict':
            throw new HangarError(
              'IDEMPOTENCY_KEY_REUSED',
              'this Idempotency-Key was used with another request body',
              {
                field: 'Idempotency-Key',
              },
            );
          case 'in-progress':
            throw new HangarError(
              'IDEMPOTENCY_KEY_IN_USE',
              'a request with this Idempotency-Key is still being processed; retry shortly',
            );
          case 'new':
            return next.handle().pipe(
              mergeMap(async (body: unknown) => {
                await this.keys.complete(scope, key, status, body);
                return body;
              }),
              catchError(async (error: unknown) => {
                await this.keys.release(scope, key);
                throw error;
              }),
            );
        }
      }),
    );
  }
}

// Key order must not make two equal bodies look different. Passwords are left out: the hash is
// kept for 24 h, and with the rest of the body known (a new user's email and name are in the
// users table) a password of few bits could be found from it by guessing.
const UNHASHED_FIELDS = /password/i;

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([name]) => !UNHASHED_FIELDS.test(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
