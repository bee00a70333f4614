import { setTimeout as delay } from 'node:timers/promises';
import type { z } from 'zod';
import {
  PROBLEM_CONTENT_TYPE,
  ProblemSchema,
  TASK_API_PREFIX,
  TASK_API_ROUTES,
  WARM_POD_ROUTES,
  type Problem,
  type TaskApiRoute,
  type WarmPodRoute,
} from '@hangar/contracts';

// The attempt's routes, and a warm pod's (with its own credential) before it has an attempt.
const ROUTES = { ...TASK_API_ROUTES, ...WARM_POD_ROUTES };
type Route = TaskApiRoute | WarmPodRoute;

export interface TaskApiClientOptions {
  // The runner's endpoints as the pod reaches them (RUNNER_TASK_API_URL).
  url: string;
  // The attempt's token (a warm pod's own, on the warm routes).
  token: string;
  // How long a call keeps being retried while the runner cannot be reached (a rolling update).
  retryForMs?: number;
  // How long one call may take.
  timeoutMs?: number;
}

// A call the task API refused: its status and the problem it answered.
export class TaskApiError extends Error {
  constructor(
    readonly route: Route,
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(`task API ${ROUTES[route]}: ${status} ${problem?.detail ?? problem?.title ?? ''}`.trim());
  }

  // The token's attempt is over (or the token was revoked with it): nothing more to do.
  get attemptOver(): boolean {
    const code = this.problem?.code;
    return (this.status === 409 && code === 'attempt-ended') || (this.status === 401 && code === 'revoked');
  }
}

// Answers of a runner that could not take the call at all: tried again.
const UNAVAILABLE = new Set([502, 503, 504]);

// run-task.js's side of the task API: JSON over HTTP with the attempt's token, answers checked
// with the contract's schemas. A call that cannot reach the runner is retried for a while; a
// refusal is thrown as TaskApiError.
export class TaskApiClient {
  constructor(private readonly options: TaskApiClientOptions) {}

  async call<T>(route: Route, body: unknown, answer: z.ZodType<T>): Promise<T>;
  async call(route: Route, body?: unknown): Promise<undefined>;
  async call<T>(route: Route, body?: unknown, answer?: z.ZodType<T>): Promise<T | undefined> {
    const [method, path] = ROUTES[route].split(' ') as [string, string];
    const url = `${this.options.url.replace(/\/+$/, '')}${TASK_API_PREFIX}${path}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const deadline = Date.now() + (this.options.retryForMs ?? 60_000);
    for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.options.token}`,
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(payload === undefined ? {} : { body: payload }),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
        });
      } catch (error) {
        if (Date.now() + wait > deadline) throw error;
        await delay(wait);
        continue;
      }
      if (UNAVAILABLE.has(response.status) && Date.now() + wait <= deadline) {
        await response.body?.cancel();
        await delay(wait);
        continue;
      }
      const text = await response.text();
      if (!response.ok) throw new TaskApiError(route, response.status, problemOf(response, text));
      if (!answer) return undefined;
      return answer.parse(JSON.parse(text));
    }
  }
}

function problemOf(response: Response, text: string): Problem | undefined {
  if (!(response.headers.get('content-type') ?? '').startsWith(PROBLEM_CONTENT_TYPE)) return undefined;
  try {
    return ProblemSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}
