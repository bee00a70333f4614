import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Task, TaskEvent, TaskEventPage, TaskTreeNode } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask, request, signedInMember } from './support';

// Agents that delegate, end to end: the real Claude Code CLI, driven by the scripted model's
// `manager` scenario, calls Hangar's MCP tools (mcp__hangar__start_task, mcp__hangar__wait) on
// its runner; the children are real tasks through the gateway's creation policy.
jest.setTimeout(240_000);

interface McpConfig {
  mcpServers: Record<string, { type: string; url: string; headers: Record<string, string> }>;
}

describe('agents that delegate', () => {
  let stack: ServiceStack;
  let runnerEndpoints: string;

  beforeAll(async () => {
    // A manager waits in its slot while its children run in others.
    stack = await ServiceStack.create('delegation', { RUNNER_SLOTS: '8' });
    await stack.start();
    const runner = stack.processes.get('agent-runner')!;
    const line = await runner.waitForLine((text) => text.includes("agents' endpoints on"));
    runnerEndpoints = /agents' endpoints on (http:\/\/[^ "]+)/.exec(line)![1]!;
    const manager = await request(stack, 'POST', '/api/v1/profiles', {
      name: 'manager',
      delegation: { enabled: true, profiles: ['default', 'manager'], maxDepth: 1, maxChildren: 3 },
    });
    expect(manager.status).toBe(201);
    expect(manager.body).toMatchObject({
      delegation: { enabled: true, profiles: ['default', 'manager'], maxDepth: 1, maxChildren: 3 },
    });
  });

  it('should audit who let a profile delegate, and declare the tree route in the OpenAPI document', async () => {
    const audit = await request(stack, 'GET', '/api/v1/audit?project=default&action=profile.create');
    const entry = (audit.body as { items: { target: { id: string } | null; details: unknown }[] }).items.find(
      (item) => item.target?.id === 'manager',
    );
    expect(entry?.details).toMatchObject({ delegation: { enabled: true, maxDepth: 1, maxChildren: 3 } });
    const document = (await request(stack, 'GET', '/api/openapi.json')).body as {
      paths: Record<string, { get?: unknown }>;
    };
    expect(document.paths['/api/v1/tasks/{id}/tree']?.get).toBeDefined();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  async function finished(task: Task): Promise<Task> {
    const follower = follow(stack, task.id);
    await follower.finished;
    follower.close();
    return getTask(stack, task.id);
  }

  async function events(taskId: string): Promise<TaskEvent[]> {
    const page = await request(stack, 'GET', `/api/v1/tasks/${taskId}/events?limit=1000`);
    return (page.body as TaskEventPage).items;
  }

  async function tree(taskId: string): Promise<TaskTreeNode> {
    const answer = await request(stack, 'GET', `/api/v1/tasks/${taskId}/tree`);
    expect(answer.status).toBe(200);
    return answer.body as TaskTreeNode;
  }

  // A manager's three children, once they all run (no event says a child was started: the tree
  // is read until then).
  async function runningChildren(taskId: string): Promise<TaskTreeNode[]> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { children } = await tree(taskId);
      if (children.length === 3 && children.every((child) => child.status === 'RUNNING')) return children;
      if (Date.now() > deadline)
        throw new Error(
          `children of ${taskId} not all running: ${children.map((child) => child.status).join(', ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  // What a tool answered the agent, by the tool's name.
  function toolResults(taskEvents: TaskEvent[], name: string): { content: string; isError: boolean }[] {
    const uses = new Set(
      taskEvents.flatMap((event) =>
        event.type === 'tool.use' && event.data.name === name ? [event.data.toolUseId] : [],
      ),
    );
    return taskEvents.flatMap((event) =>
      event.type === 'tool.result' && uses.has(event.data.toolUseId)
        ? [{ content: event.data.content, isError: event.data.isError }]
        : [],
    );
  }

  it('should let a manager start three children, wait for them and summarise their results', async () => {
    const manager = await finished(
      await createTask(stack, { prompt: 'Count the fruit', profile: 'manager', scenario: 'manager' }),
    );
    expect(manager).toMatchObject({
      status: 'COMPLETED',
      parentTaskId: null,
      rootTaskId: manager.id,
      depth: 0,
    });
    // The summary quotes what wait answered: every child's own result.
    expect(manager.result).toContain('Summary of my three children');
    for (const count of ['apples: 3', 'pears: 5', 'plums: 7']) expect(manager.result).toContain(count);

    const root = await tree(manager.id);
    expect(root.id).toBe(manager.id);
    expect(root.children).toHaveLength(3);
    for (const child of root.children) {
      expect(child).toMatchObject({
        status: 'COMPLETED',
        parentTaskId: manager.id,
        rootTaskId: manager.id,
        depth: 1,
        profile: 'default',
        project: manager.project,
        children: [],
      });
      // A child's own GET shows where it belongs, and its tree is its root's.
      expect(await getTask(stack, child.id)).toMatchObject({
        parentTaskId: manager.id,
        rootTaskId: manager.id,
      });
      expect((await tree(child.id)).id).toBe(manager.id);
    }
    expect(root.children.map((child) => child.result).sort()).toEqual(['apples: 3', 'pears: 5', 'plums: 7']);
    // Another project's operator learns nothing of the tree, from its root or from a child.
    const outsider = await signedInMember(stack, {
      name: 'olga',
      project: 'elsewhere',
      role: 'operator',
      create: true,
    });
    for (const id of [manager.id, root.children[0]!.id]) {
      const hidden = await request(stack, 'GET', `/api/v1/tasks/${id}/tree`, undefined, outsider);
      expect(hidden.status).toBe(404);
      expect(JSON.stringify(hidden.body)).not.toContain('apples');
    }
    const started = toolResults(await events(manager.id), 'mcp__hangar__start_task');
    expect(started).toHaveLength(3);
    expect(started.every((result) => !result.isError)).toBe(true);
  });

  it('should cancel a manager’s running children when the manager is cancelled', async () => {
    const manager = await createTask(stack, {
      prompt: 'Start slow children and wait',
      profile: 'manager',
      scenario: 'manager',
    });
    // Cancelled once its three children run.
    const children = await runningChildren(manager.id);
    const followers = children.map((child) => follow(stack, child.id));
    expect((await request(stack, 'POST', `/api/v1/tasks/${manager.id}/cancel`)).status).toBe(202);
    expect((await finished(manager)).status).toBe('CANCELLED');
    await Promise.all(followers.map((follower) => follower.finished));
    for (const follower of followers) follower.close();
    for (const child of children) expect((await getTask(stack, child.id)).status).toBe('CANCELLED');
  });

  it('should refuse a child beyond the depth limit to the agent as a tool error', async () => {
    const manager = await finished(
      await createTask(stack, { prompt: 'A nested manager', profile: 'manager', scenario: 'manager' }),
    );
    expect(manager.status).toBe('COMPLETED');
    const root = await tree(manager.id);
    expect(root.children).toHaveLength(1);
    const sub = root.children[0]!;
    // The child manager (depth 1, its profile's maxDepth) may start nothing.
    expect(sub).toMatchObject({ status: 'COMPLETED', profile: 'manager', depth: 1, children: [] });
    const refused = toolResults(await events(sub.id), 'mcp__hangar__start_task');
    expect(refused).toEqual([{ content: expect.stringContaining('depth limit reached'), isError: true }]);
    expect(sub.result).toContain('depth limit reached');
    expect(manager.result).toContain('depth limit reached');
  });

  it('should route a child by the labels it requires, and refuse one no runner offers as a tool error', async () => {
    const placed = await finished(
      await createTask(stack, {
        prompt: 'Work on the default pool',
        profile: 'manager',
        scenario: 'manager',
      }),
    );
    expect(placed.status).toBe('COMPLETED');
    const [child] = (await tree(placed.id)).children;
    expect(child).toMatchObject({ status: 'COMPLETED', result: 'plums: 7' });
    expect(await getTask(stack, child!.id)).toMatchObject({ requires: ['pool=default'], pool: 'default' });
    expect(placed.result).toContain('plums: 7');

    const refused = await finished(
      await createTask(stack, { prompt: 'This needs a gpu', profile: 'manager', scenario: 'manager' }),
    );
    expect(refused.status).toBe('COMPLETED');
    expect((await tree(refused.id)).children).toEqual([]);
    const [answer] = toolResults(await events(refused.id), 'mcp__hangar__start_task');
    expect(answer).toEqual({ content: expect.stringContaining('gpu'), isError: true });
    expect(refused.result).toContain('gpu');
  });

  it('should let a manager start a workflow run, wait for it and read its outputs', async () => {
    const workflow = await request(stack, 'POST', '/api/v1/workflows', {
      name: 'count-fruit',
      inputs: { fruit: { type: 'string' } },
      steps: [{ id: 'count', prompt: 'Count the {{inputs.fruit}}', scenario: 'worker-report' }],
      outputs: { count: '{{steps.count.output}}' },
    });
    expect(workflow.status).toBe(201);
    const manager = await finished(
      await createTask(stack, { prompt: 'Run the workflow', profile: 'manager', scenario: 'manager' }),
    );
    expect(manager.status).toBe('COMPLETED');
    expect(manager.result).toContain('The workflow ended');
    expect(manager.result).toContain('"count": "apples: 3"');
    const started = toolResults(await events(manager.id), 'mcp__hangar__start_workflow');
    expect(started).toEqual([{ content: expect.stringContaining('"kind": "workflow-run"'), isError: false }]);
    const runId = (JSON.parse(started[0]!.content) as { id: string }).id;
    const run = await request(stack, 'GET', `/api/v1/workflow-runs/${runId}`);
    expect(run.body).toMatchObject({ status: 'COMPLETED', createdBy: `task:${manager.id}` });
  });

  it("should not let one attempt's credential act on another task's children", async () => {
    const victim = await createTask(stack, {
      prompt: 'Start slow children and wait',
      profile: 'manager',
      scenario: 'manager',
    });
    const attacker = await createTask(stack, {
      prompt: 'Start slow children and wait',
      profile: 'manager',
      scenario: 'manager',
    });
    const target = (await runningChildren(victim.id))[0]!.id;
    // The attacker waits on children of its own: its attempt, and its credential, are live.
    await runningChildren(attacker.id);
    const running = await getTask(stack, attacker.id);
    expect(running.status).toBe('RUNNING');
    // The attacker's credential, as its agent can read it from its own MCP config.
    const config = JSON.parse(
      readFileSync(
        path.join(stack.dataDir, 'homes', `${attacker.id}-${running.attempts}`, 'mcp-config.json'),
        'utf8',
      ),
    ) as McpConfig;
    const hangar = config.mcpServers['hangar']!;
    // The runner's TCP address: the sandbox's bridge is the same server.
    const url = new URL('/mcp', runnerEndpoints);
    const client = new Client({ name: 'attacker', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(url, { requestInit: { headers: hangar.headers } }),
    );
    try {
      for (const [name, args] of [
        ['get_result', { id: target }],
        ['get_diff', { id: target }],
        ['cancel', { id: target }],
        ['wait', { ids: [target], timeoutSeconds: 1 }],
        ['cancel', { id: victim.id }],
      ] as const) {
        const answer = await client.callTool({ name, arguments: args });
        expect({ name, answer }).toEqual({
          name,
          answer: expect.objectContaining({
            isError: true,
            content: [{ type: 'text', text: expect.stringContaining('no child task') }],
          }),
        });
      }
      // Its own children it sees.
      const own = await client.callTool({ name: 'wait', arguments: { timeoutSeconds: 1 } });
      expect(own.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    expect((await getTask(stack, target)).status).toBe('RUNNING');

    // Without a credential, or with a made-up one, nothing answers but a 401.
    for (const authorization of [undefined, 'Bearer hga_not_a_real_token']) {
      const refused = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(refused.status).toBe(401);
    }

    for (const task of [victim, attacker])
      expect((await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`)).status).toBe(202);
    await Promise.all([finished(victim), finished(attacker)]);
  });
});
