import {
  type AnswerApprovalRequest,
  type Approval,
  ApprovalSchema,
  type CreateTaskRequest,
  type Problem,
  ProblemSchema,
  type StartWorkflowRunRequest,
  type Task,
  type TaskEvent,
  TaskEventSchema,
  TaskSchema,
  type Workflow,
  type WorkflowDefinition,
  type WorkflowRun,
  WorkflowRunSchema,
  WorkflowSchema,
  type WorkflowTemplate,
  WorkflowTemplateSchema,
  type WorkflowVersion,
  WorkflowVersionSchema,
} from '@hangar/contracts';
import { networkErrorReason } from './network-error';

// A task as the CLI reads it: id and status must be there; the rest is shown when present,
// so a gateway a little newer or older than this CLI still works with it.
const TaskViewSchema = TaskSchema.partial().required({ id: true, status: true });
export type TaskView = Partial<Task> & Pick<Task, 'id' | 'status'>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class GatewayUnreachable extends Error {
  constructor(
    readonly baseUrl: string,
    readonly reason: string,
  ) {
    super(`cannot reach the gateway at ${baseUrl} (${reason})`);
    this.name = 'GatewayUnreachable';
  }
}

// GET /api/v1/approvals: the gateway's defaults (pending, its page size) when left out.
export interface ApprovalQuery {
  project?: string | undefined;
  task?: string | undefined;
  status?: 'pending' | 'answered' | 'all' | undefined;
  limit?: number | undefined;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class GatewayClient {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly fetchImpl: FetchLike = fetch,
    private readonly timeoutMs = 15_000,
    private readonly token?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async createTask(request: CreateTaskRequest): Promise<TaskView> {
    return parseTask(await this.request('POST', '/api/v1/tasks', request));
  }

  async getTask(taskId: string): Promise<TaskView> {
    return parseTask(await this.request('GET', `/api/v1/tasks/${encodeURIComponent(taskId)}`));
  }

  async cancelTask(taskId: string): Promise<TaskView> {
    const body = await this.request('POST', `/api/v1/tasks/${encodeURIComponent(taskId)}/cancel`);
    const parsed = TaskViewSchema.safeParse(body);
    // The cancel answer may be just an acknowledgement; the task itself is the source of truth.
    return parsed.success ? parsed.data : this.getTask(taskId);
  }

  async listWorkflows(project?: string): Promise<Workflow[]> {
    const body = await this.request('GET', `/api/v1/workflows${projectQuery(project)}`);
    return parseAs(WorkflowSchema.array(), itemsOf(body), 'a list of workflows');
  }

  async listWorkflowTemplates(): Promise<WorkflowTemplate[]> {
    const body = await this.request('GET', '/api/v1/workflows/templates');
    return parseAs(WorkflowTemplateSchema.array(), itemsOf(body), 'a list of templates');
  }

  async workflowVersions(workflowId: string): Promise<WorkflowVersion[]> {
    const body = await this.request('GET', `/api/v1/workflows/${encodeURIComponent(workflowId)}/versions`);
    return parseAs(WorkflowVersionSchema.array(), itemsOf(body), 'a list of versions');
  }

  async createWorkflow(definition: WorkflowDefinition, project?: string): Promise<Workflow> {
    const body = await this.request('POST', `/api/v1/workflows${projectQuery(project)}`, definition);
    return parseAs(WorkflowSchema, body, 'a workflow');
  }

  // A new version of the workflow.
  async updateWorkflow(workflowId: string, definition: WorkflowDefinition): Promise<Workflow> {
    const body = await this.request('PUT', `/api/v1/workflows/${encodeURIComponent(workflowId)}`, definition);
    return parseAs(WorkflowSchema, body, 'a workflow');
  }

  async startWorkflowRun(workflowId: string, request: StartWorkflowRunRequest): Promise<WorkflowRun> {
    const body = await this.request(
      'POST',
      `/api/v1/workflows/${encodeURIComponent(workflowId)}/runs`,
      request,
    );
    return parseAs(WorkflowRunSchema, body, 'a workflow run');
  }

  async getWorkflowRun(runId: string): Promise<WorkflowRun> {
    const body = await this.request('GET', `/api/v1/workflow-runs/${encodeURIComponent(runId)}`);
    return parseAs(WorkflowRunSchema, body, 'a workflow run');
  }

  async cancelWorkflowRun(runId: string): Promise<WorkflowRun> {
    const body = await this.request('POST', `/api/v1/workflow-runs/${encodeURIComponent(runId)}/cancel`);
    return parseAs(WorkflowRunSchema, body, 'a workflow run');
  }

  async decideWorkflowStep(
    runId: string,
    key: string,
    approved: boolean,
    comment?: string,
  ): Promise<WorkflowRun> {
    const body = await this.request(
      'POST',
      `/api/v1/workflow-runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(key)}/${approved ? 'approve' : 'reject'}`,
      comment === undefined ? {} : { comment },
    );
    return parseAs(WorkflowRunSchema, body, 'a workflow run');
  }

  async listApprovals(query: ApprovalQuery): Promise<Approval[]> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) params.set(name, String(value));
    const search = params.toString();
    const body = await this.request('GET', `/api/v1/approvals${search === '' ? '' : `?${search}`}`);
    return parseAs(ApprovalSchema.array(), itemsOf(body), 'a list of approvals');
  }

  async getApproval(approvalId: string): Promise<Approval> {
    const body = await this.request('GET', `/api/v1/approvals/${encodeURIComponent(approvalId)}`);
    return parseAs(ApprovalSchema, body, 'an approval');
  }

  async answerApproval(approvalId: string, answer: AnswerApprovalRequest): Promise<Approval> {
    const body = await this.request(
      'POST',
      `/api/v1/approvals/${encodeURIComponent(approvalId)}/answer`,
      answer,
    );
    return parseAs(ApprovalSchema, body, 'an approval');
  }

  // Every stored event after `afterSeq`, page by page (a page is capped in bytes as well as in
  // events, so a short page does not mean the end: `nextAfterSeq` does).
  async listEvents(taskId: string, afterSeq = 0): Promise<TaskEvent[]> {
    const events: TaskEvent[] = [];
    for (let next: number | null = afterSeq; next !== null;) {
      const body = await this.request(
        'GET',
        `/api/v1/tasks/${encodeURIComponent(taskId)}/events?afterSeq=${next}`,
      );
      const page = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      const items = Array.isArray(page['items']) ? (page['items'] as unknown[]) : [];
      for (const item of items) {
        const parsed = TaskEventSchema.safeParse(item);
        if (parsed.success) events.push(parsed.data);
      }
      // A gateway without `nextAfterSeq` answers everything in one page.
      const continues = page['nextAfterSeq'];
      next = typeof continues === 'number' && continues > next ? continues : null;
    }
    return events;
  }

  private async request(method: string, pathname: string, body?: unknown): Promise<unknown> {
    const url = `${this.baseUrl}${pathname}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new GatewayUnreachable(this.baseUrl, networkErrorReason(error));
    }
    const text = await response.text();
    const json = safeJson(text);
    if (response.ok) return json;
    const problem = ProblemSchema.safeParse(json);
    if (problem.success) {
      throw new ApiError(response.status, problem.data, problem.data.detail ?? problem.data.title);
    }
    const statusText = response.statusText === '' ? '' : ` ${response.statusText}`;
    throw new ApiError(response.status, undefined, `the gateway answered ${response.status}${statusText}`);
  }
}

function parseTask(body: unknown): TaskView {
  const parsed = TaskViewSchema.safeParse(body);
  if (!parsed.success)
    throw new ApiError(200, undefined, 'the gateway answered with something that is not a task');
  return parsed.data;
}

// A zod schema of @hangar/contracts, as far as parsing needs it.
interface Parser<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

function parseAs<T>(schema: Parser<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new ApiError(200, undefined, `the gateway answered with something that is not ${what}`);
  return parsed.data;
}

function itemsOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as { items?: unknown }).items : undefined;
}

function projectQuery(project: string | undefined): string {
  return project === undefined ? '' : `?project=${encodeURIComponent(project)}`;
}

function safeJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// The client every command uses: --api or the environment's URL, and the caller's token.
export function gatewayClientFor(
  context: { env: { apiUrl: string; token: string | undefined }; fetch?: FetchLike | undefined },
  apiFlag?: string,
): GatewayClient {
  return new GatewayClient(apiFlag ?? context.env.apiUrl, context.fetch ?? fetch, 15_000, context.env.token);
}
