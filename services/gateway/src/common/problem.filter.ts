import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ZodValidationException } from 'nestjs-zod';
import type { ZodError } from 'zod';
import { Prisma } from '@hangar/db';
import { currentTraceId } from '@hangar/observability';
import {
  assertUnreachable,
  HangarError,
  PROBLEM_CONTENT_TYPE,
  ProblemErrorsSchema,
  type ErrorCode,
  type Problem,
} from '@hangar/contracts';

// The one mapper from domain error codes to HTTP statuses.
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case 'TASK_NOT_FOUND':
    case 'PROFILE_NOT_FOUND':
    case 'CONVERSATION_NOT_FOUND':
    case 'DIFF_NOT_FOUND':
    case 'PROJECT_NOT_FOUND':
    case 'USER_NOT_FOUND':
    case 'TOKEN_NOT_FOUND':
    case 'WEBHOOK_NOT_FOUND':
    case 'DELIVERY_NOT_FOUND':
    case 'WORKFLOW_NOT_FOUND':
    case 'WORKFLOW_RUN_NOT_FOUND':
    case 'BUDGET_NOT_FOUND':
    case 'ALERT_RULE_NOT_FOUND':
    case 'ALERT_TARGET_NOT_FOUND':
    case 'ALERT_SILENCE_NOT_FOUND':
    case 'APPROVAL_NOT_FOUND':
      return 404;
    case 'UNAUTHENTICATED':
    case 'INVALID_CREDENTIALS':
    case 'INVALID_SIGNATURE':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'TOO_MANY_ATTEMPTS':
      return 429;
    case 'INVALID_TRANSITION':
    case 'PROJECT_EXISTS':
    case 'USER_EXISTS':
    case 'PROFILE_EXISTS':
    case 'PROFILE_IN_USE':
    case 'WORKFLOW_EXISTS':
    case 'CONVERSATION_BUSY':
    case 'IDEMPOTENCY_KEY_REUSED':
    case 'IDEMPOTENCY_KEY_IN_USE':
    case 'APPROVAL_CLOSED':
      return 409;
    case 'SCENARIO_NOT_AVAILABLE':
    case 'UNKNOWN_SCENARIO':
    case 'UNKNOWN_PROFILE':
    case 'INVALID_REPOSITORY':
    case 'INVALID_CURSOR':
    case 'INVALID_IDEMPOTENCY_KEY':
    case 'PROJECT_REQUIRED':
    case 'INVALID_TEMPLATE':
    case 'INVALID_WEBHOOK_BODY':
    case 'INVALID_COMMAND':
    case 'VALIDATION_FAILED':
    case 'INVALID_WORKFLOW':
      return 400;
    case 'UNROUTABLE':
      return 422;
    case 'ORCHESTRATOR_UNAVAILABLE':
      return 503;
    default:
      return assertUnreachable(code);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const PRISMA_STATUS: Record<string, { status: number; detail: string }> = {
  P2002: { status: 409, detail: 'a record with these values exists already' },
  P2025: { status: 404, detail: 'the record does not exist' },
  P2003: { status: 400, detail: 'a referenced record does not exist' },
};

// Express' body parser reports its own errors (too large, bad JSON) as plain errors with a status.
interface BodyParserError {
  status: number;
  type: string;
  message: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'type' in error &&
    'status' in error &&
    typeof error.status === 'number'
  );
}

// Every error leaves the gateway as application/problem+json (RFC 9457).
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemFilter.name);

  catch(error: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = this.toProblem(error);
    problem.instance = request.originalUrl;
    // With tracing on, the answer names the trace to look the failure up by.
    const traceId = currentTraceId();
    if (traceId) problem.traceId = traceId;
    if (problem.status >= 500)
      this.logger.error({ err: error, url: request.originalUrl }, problem.detail ?? problem.title);
    else
      this.logger.debug(
        `${problem.status} ${request.method} ${request.originalUrl}: ${problem.detail ?? ''}`,
      );
    if (error instanceof HangarError) this.setHeaders(error, response);
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  // RFC 9110: a 401 names the scheme to use; a 429 says when to come back.
  private setHeaders(error: HangarError, response: Response) {
    if (error.code === 'UNAUTHENTICATED') response.setHeader('WWW-Authenticate', 'Bearer realm="hangar"');
    const retryAfter = error.details.retryAfterSeconds;
    if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
  }

  private toProblem(error: unknown): Problem {
    if (error instanceof ZodValidationException) {
      const zodError = error.getZodError() as ZodError;
      const errors = zodError.issues.map((issue) => ({
        field: issue.path.length > 0 ? issue.path.join('.') : '(body)',
        message:
          issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
      }));
      return {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        code: 'VALIDATION_FAILED',
        detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        errors,
      };
    }
    if (error instanceof HangarError) {
      const status = statusOf(error.code);
      const field = typeof error.details.field === 'string' ? error.details.field : undefined;
      // A refusal with several causes names each (an invalid workflow definition).
      const errors = ProblemErrorsSchema.safeParse(error.details.errors);
      return {
        type: 'about:blank',
        title: TITLES[status] ?? 'Error',
        status,
        code: error.code,
        detail: error.message,
        ...(errors.success
          ? { errors: errors.data }
          : field
            ? { errors: [{ field, message: error.message }] }
            : {}),
      };
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return { type: 'about:blank', title: TITLES[status] ?? error.name, status, detail: error.message };
    }
    if (error instanceof Prisma.PrismaClientKnownRequestError) {
      // A repository let a constraint error through: say what kind, keep the rest in the log.
      const mapped = PRISMA_STATUS[error.code];
      if (mapped)
        return {
          type: 'about:blank',
          title: TITLES[mapped.status] ?? 'Error',
          status: mapped.status,
          detail: mapped.detail,
        };
    }
    if (isBodyParserError(error)) {
      // (Invalid JSON never gets here: Nest turns it into a BadRequestException first.)
      const detail =
        error.type === 'entity.too.large' ? 'request body is larger than the gateway accepts' : error.message;
      return {
        type: 'about:blank',
        title: TITLES[error.status] ?? 'Bad Request',
        status: error.status,
        detail,
      };
    }
    return {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'unexpected error; see the gateway log',
    };
  }
}
