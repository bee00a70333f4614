import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { z } from 'zod';
import {
  PROBLEM_CONTENT_TYPE,
  TASK_API_MAX_BODY_BYTES,
  TASK_API_PREFIX,
  TASK_API_ROUTES,
  TASK_API_WARM_WAIT_MS,
  TaskApiAnswerRequestSchema,
  TaskApiClaimRequestSchema,
  TaskApiDiffRequestSchema,
  TaskApiEmptyRequestSchema,
  TaskApiEventsRequestSchema,
  TaskApiFinishRequestSchema,
  TaskApiSessionSchema,
  TaskApiWarmAssignmentRequestSchema,
  TaskApiWorkspaceRequestSchema,
  WARM_POD_ROUTES,
  type Problem,
  type TaskApiClaim,
  type TaskApiRefusal,
  type TaskApiRoute,
  type TaskApiWarmAssignment,
  type TaskApiWarmProfile,
  type WarmPodRoute,
  withoutNul,
} from '@hangar/contracts';
import { ProfileRepository, WarmPodRepository, type AttemptGrant, type WarmPodGrant } from '@hangar/db';
import { parseRepositorySpec, repositoryEndpoint } from '@hangar/workspaces';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { LocalAttempts, NotAConversationTurn, type LocalAttempt } from '../attempts/local-attempts';
import { taskJobName } from '../kubernetes/task-job';
import { AttemptCredentials, REFUSAL_TEXT } from './attempt-credentials.service';
import { sendJson } from './model-gateway';
import { WarmAssignments } from './warm-assignments';

// What each route reads from its body (routes without a body read none).
const BODIES: Partial<Record<TaskApiRoute | WarmPodRoute, z.ZodType>> = {
  warmAssignment: TaskApiWarmAssignmentRequestSchema,
  claim: TaskApiClaimRequestSchema,
  events: TaskApiEventsRequestSchema,
  heartbeat: TaskApiEmptyRequestSchema,
  workspace: TaskApiWorkspaceRequestSchema,
  putSession: TaskApiSessionSchema,
  diff: TaskApiDiffRequestSchema,
  pushed: TaskApiEmptyRequestSchema,
  answer: TaskApiAnswerRequestSchema,
  finish: TaskApiFinishRequestSchema,
  requeue: TaskApiEmptyRequestSchema,
};

// A refusal of the request itself, answered as a problem (never a 5xx).
class Refused extends Error {
  constructor(
    readonly status: number,
    readonly problem: Omit<Problem, 'type' | 'status' | 'title'> & { title?: string },
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail);
  }
}

// The task API (docs/kubernetes.md): run-task.js in a task pod records its attempt here with
// the attempt's token, and nothing else. The attempt is the token's: a call acts on it alone,
// as the Job's run (runner id = the Job's name), through the same LocalAttempts the runner's own
// runs use. Hand-written on node:http like the other agents' endpoints.
@Injectable()
export class TaskApi {
  private readonly logger = new Logger(TaskApi.name);

  constructor(
    private readonly credentials: AttemptCredentials,
    private readonly attempts: LocalAttempts,
    private readonly warmPods: WarmPodRepository,
    private readonly profiles: ProfileRepository,
    private readonly assignments: WarmAssignments,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      const route = routeOf(req.method ?? 'GET', url.pathname.slice(TASK_API_PREFIX.length));
      if (isWarmRoute(route)) {
        const pod = await this.authorizeWarm(req);
        const body = await readBody(req, BODIES[route]);
        sendJson(res, 200, await this.answerWarm(route, pod, body, req));
        return;
      }
      const grant = await this.authorize(req, route);
      const body = await readBody(req, BODIES[route]);
      const answer = await this.answer(route, grant, body);
      if (answer === undefined) res.writeHead(204).end();
      else sendJson(res, 200, answer);
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      this.logger.debug(`${error.status} ${req.method} ${url.pathname}: ${error.message}`);
      sendProblem(res, error, url.pathname);
    }
  }

  private async authorize(req: IncomingMessage, route: TaskApiRoute): Promise<AttemptGrant> {
    const token = bearerOf(req, "send the attempt's token: Authorization: Bearer hga_…");
    const access = await this.credentials.check(token, { claimable: route === 'claim' });
    if (!access.ok) throw refusal(access.refusal);
    const { grant } = access;
    if (route === 'claim') return grant;
    // Only the attempt a task pod claimed: not one a runner runs itself (its agents hold tokens
    // too, for the model gateway and the proxy).
    const [state] = await this.attempts.tasks.jobStates([grant.taskId]);
    if (state?.runnerId !== runnerIdOf(grant))
      throw new Refused(409, {
        detail: "this token's attempt is not a task pod's",
        code: 'attempt-ended',
      });
    return grant;
  }

  // A warm pod's own credential: good on the warm routes alone (an attempt's is refused there,
  // and this one everywhere else, as `unknown`).
  private async authorizeWarm(req: IncomingMessage): Promise<WarmPodGrant> {
    const token = bearerOf(req, "send the warm pod's token: Authorization: Bearer hgw_…");
    const access = await this.warmPods.check(token);
    if (!access.ok) throw refusal(access.refusal);
    return access.pod;
  }

  private async answerWarm(
    route: WarmPodRoute,
    pod: WarmPodGrant,
    body: unknown,
    req: IncomingMessage,
  ): Promise<TaskApiWarmProfile | TaskApiWarmAssignment> {
    switch (route) {
      case 'warmProfile': {
        // Read once, to start the CLI: once an attempt is given to the pod, its agent runs there and
        // may have read the pod's credential, so the profile (MCP servers' settings with it) is
        // not answered any more.
        if (pod.assignment)
          throw new Refused(409, {
            detail: 'this warm pod was given an attempt: its profile is no longer answered',
            code: 'assigned',
          });
        // The profile as the pod's Job was made for it: a changed one is not the pod's to start.
        const profile = await this.profiles.byId(pod.profileId);
        if (!profile || Date.parse(profile.updatedAt) !== pod.profileVersion.getTime())
          throw new Refused(409, {
            detail: 'the profile this warm pod was made for has changed since: the controller replaces it',
            code: 'profile-changed',
          });
        return { profile };
      }
      case 'warmAssignment': {
        const { attemptTokenHash } = body as z.infer<typeof TaskApiWarmAssignmentRequestSchema>;
        if (!(await this.warmPods.ready(pod.jobName, attemptTokenHash)))
          throw new Refused(409, {
            detail: 'this warm pod reported another credential for its CLI before',
            code: 'other-credential',
          });
        return { assignment: await this.assignmentOf(pod, req) };
      }
    }
  }

  // Waits up to TASK_API_WARM_WAIT_MS for the pod's Job to be given an attempt (or for the pod to
  // go away; the pod asks again after an empty answer). Woken when one is given (WarmAssignments),
  // it looks in the database every RUNNER_JOB_WARM_POLL_MS anyway.
  private async assignmentOf(
    pod: WarmPodGrant,
    req: IncomingMessage,
  ): Promise<TaskApiWarmAssignment['assignment']> {
    const gone = new AbortController();
    req.socket.once('close', () => gone.abort());
    const deadline = Date.now() + TASK_API_WARM_WAIT_MS;
    // Each look in the database is made with the wait already listening (this replica hears the
    // word, this wait is registered): an attempt given after the look wakes it, one given before
    // is seen by it.
    await this.assignments.listening();
    for (;;) {
      const looked = new AbortController();
      const woken = this.assignments.wait(
        pod.jobName,
        Math.min(this.config.RUNNER_JOB_WARM_POLL_MS, deadline - Date.now()),
        AbortSignal.any([gone.signal, looked.signal]),
      );
      const current = await this.warmPods.get(pod.jobName);
      if (!current || current.assignment || gone.signal.aborted || Date.now() >= deadline) {
        looked.abort();
        if (!current) throw refusal('revoked');
        return current.assignment;
      }
      await woken;
    }
  }

  private async answer(route: TaskApiRoute, grant: AttemptGrant, body: unknown): Promise<unknown> {
    if (route === 'claim') return this.claim(grant, body as z.infer<typeof TaskApiClaimRequestSchema>);
    const attempt = await this.attempts.attach(grant.task, runnerIdOf(grant));
    try {
      return await this.act(route, attempt, runnerIdOf(grant), body);
    } catch (error) {
      if (error instanceof NotAConversationTurn)
        throw new Refused(409, { detail: error.message, code: 'not-a-conversation' });
      throw error;
    }
  }

  private async act(
    route: Exclude<TaskApiRoute, 'claim'>,
    attempt: LocalAttempt,
    runnerId: string,
    body: unknown,
  ) {
    switch (route) {
      case 'events':
        attempt.recordAll((body as z.infer<typeof TaskApiEventsRequestSchema>).events);
        await attempt.flushEvents();
        return undefined;
      case 'heartbeat': {
        const stop = await this.attempts.heartbeat(runnerId, [attempt.task.id]);
        return { cancelRequested: stop.includes(attempt.task.id) };
      }
      case 'approvalWait':
        return { waitedMs: await attempt.approvalWaitMs() };
      case 'workspace':
        await attempt.recordWorkspace(body as z.infer<typeof TaskApiWorkspaceRequestSchema>);
        return undefined;
      case 'getSession': {
        const session = await attempt.loadSession();
        return {
          session: session && { ...session, transcript: session.transcript.toString('base64') },
        };
      }
      case 'putSession': {
        const session = body as z.infer<typeof TaskApiSessionSchema>;
        await attempt.saveSession({ ...session, transcript: Buffer.from(session.transcript, 'base64') });
        return undefined;
      }
      case 'diff':
        await attempt.saveDiff(body as z.infer<typeof TaskApiDiffRequestSchema>);
        return undefined;
      case 'pushed':
        await attempt.markPushed();
        return undefined;
      case 'answer':
        await attempt.addAnswer((body as z.infer<typeof TaskApiAnswerRequestSchema>).content);
        return undefined;
      case 'finish':
        return { task: await attempt.finish(body as z.infer<typeof TaskApiFinishRequestSchema>) };
      case 'requeue':
        return { task: await attempt.requeue() };
    }
  }

  private async claim(
    grant: AttemptGrant,
    body: z.infer<typeof TaskApiClaimRequestSchema>,
  ): Promise<TaskApiClaim> {
    // Running already (claimed once, or a runner's own attempt): nothing to claim.
    if (grant.task.status !== 'QUEUED') throw notWaiting(grant);
    if (body.taskId !== grant.taskId || body.attempt !== grant.attempt)
      throw new Refused(409, {
        detail: `this token is of task ${grant.taskId} attempt ${grant.attempt}, not task ${body.taskId} attempt ${body.attempt}`,
        code: 'other-attempt',
      });
    const attempt = await this.attempts.claim(grant.taskId, grant.attempt, runnerIdOf(grant), {
      workspace: body.workspace,
      sandbox: 'pod',
    });
    if (!attempt) throw notWaiting(grant);
    // The pod records its events through requests of their own: RUNNING first.
    await attempt.announced;
    return { task: attempt.task, profile: await attempt.profile(), git: await gitOf(attempt) };
  }
}

// The run of a task pod is its Job: the kubernetes executor finds the Job by it (the attempt's
// own, or the warm Job it was given to).
export function runnerIdOf(grant: Pick<AttemptGrant, 'taskId' | 'attempt' | 'runnerId'>): string {
  return grant.runnerId ?? taskJobName(grant.taskId, grant.attempt);
}

function bearerOf(req: IncomingMessage, hint: string): string {
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!token)
    throw new Refused(
      401,
      { detail: hint, code: 'unknown' },
      { 'www-authenticate': 'Bearer realm="hangar-task-api"' },
    );
  return token;
}

function isWarmRoute(route: TaskApiRoute | WarmPodRoute): route is WarmPodRoute {
  return route in WARM_POD_ROUTES;
}

// The pod clones and pushes the task's repository itself: it gets that host's credential alone
// (HTTPS only), as the project's git hosts (or the installation's) offer it now.
async function gitOf(attempt: LocalAttempt): Promise<TaskApiClaim['git']> {
  const { task } = attempt;
  if (!task.repository) return null;
  const { hosts } = await attempt.gitAccess();
  let endpoint;
  let https = false;
  try {
    const spec = parseRepositorySpec(
      { repository: task.repository, ...(task.ref ? { ref: task.ref } : {}) },
      { allowedLocalRoots: [], hosts },
    );
    endpoint = repositoryEndpoint(spec);
    https = spec.kind === 'remote' && /^https:/i.test(spec.url);
  } catch {
    // Not a repository the pod may clone: its run fails on it with the parser's own words.
    return null;
  }
  if (!endpoint) return null;
  const credential = https ? hosts.credentialFor(endpoint) : undefined;
  return {
    host: `${endpoint.host}:${endpoint.port}`,
    credential: credential
      ? { token: credential.token, ...(credential.username ? { username: credential.username } : {}) }
      : null,
  };
}

function routeOf(method: string, path: string): TaskApiRoute | WarmPodRoute {
  const routes = Object.entries({ ...TASK_API_ROUTES, ...WARM_POD_ROUTES }) as [
    TaskApiRoute | WarmPodRoute,
    string,
  ][];
  const found = routes.find(([, line]) => line === `${method} ${path}`);
  if (found) return found[0];
  const allowed = routes
    .filter(([, line]) => line.endsWith(` ${path}`))
    .map(([, line]) => line.split(' ')[0]!);
  if (allowed.length > 0)
    throw new Refused(405, { detail: `${method} is not allowed here` }, { allow: allowed.join(', ') });
  throw new Refused(404, { detail: `no task API route ${path}` });
}

function notWaiting(grant: AttemptGrant): Refused {
  return new Refused(409, {
    detail: `task ${grant.taskId} is not waiting for attempt ${grant.attempt}`,
    code: 'attempt-ended',
  });
}

function refusal(reason: TaskApiRefusal | 'revoked'): Refused {
  const status = reason === 'attempt-ended' ? 409 : 401;
  return new Refused(status, { detail: REFUSAL_TEXT[reason], code: reason });
}

// The body as the route's schema takes it: 400 naming each bad field, 413 when too large (by
// its announced length, before reading any of it, or as it comes).
async function readBody(req: IncomingMessage, schema: z.ZodType | undefined): Promise<unknown> {
  const tooLarge = () =>
    new Refused(413, { detail: `the body is larger than ${TASK_API_MAX_BODY_BYTES} bytes` });
  if (Number(req.headers['content-length'] ?? 0) > TASK_API_MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > TASK_API_MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  if (!schema) {
    if (size > 0)
      throw new Refused(400, {
        detail: 'this route takes no body',
        errors: [{ field: '(body)', message: 'must be empty' }],
      });
    return undefined;
  }
  let json: unknown;
  try {
    // What a pod reports is the agent's text, which may hold NUL: kept as U+FFFD (PostgreSQL
    // cannot store it), as the runner's own parsers keep it.
    json = withoutNul(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    throw new Refused(400, {
      detail: 'the body is not JSON',
      errors: [{ field: '(body)', message: 'must be JSON' }],
    });
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : '(body)',
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  throw new Refused(400, {
    detail: errors.map((error) => `${error.field}: ${error.message}`).join('; '),
    code: 'VALIDATION_FAILED',
    errors,
  });
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
};

function sendProblem(res: ServerResponse, refused: Refused, instance: string): void {
  const problem: Problem = {
    type: 'about:blank',
    title: TITLES[refused.status] ?? 'Error',
    status: refused.status,
    instance,
    ...refused.problem,
  };
  const text = JSON.stringify(problem);
  res.writeHead(refused.status, {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    // A body left unread (too large, or refused before it was read) ends the connection.
    connection: 'close',
    ...refused.headers,
  });
  res.end(text);
}
