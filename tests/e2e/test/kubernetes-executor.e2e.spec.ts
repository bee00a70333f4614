import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { V1EnvVar, V1Job } from '@kubernetes/client-node';
import type { Task, TaskEvent } from '@hangar/contracts';
import { freePort, REPO_ROOT, ServiceStack } from '@hangar/testing';
import { startFakeKubeApi, type FakeKubeApi, type TerminationOptions } from '@hangar/testing/kubernetes';
import {
  comparableDiff,
  createTask,
  eventShape,
  follow,
  getTask,
  request,
  taskWithDiff,
  waitUntil,
} from './support';

// The whole platform with the kubernetes executor: a task submitted to the gateway becomes a Job
// (in the fake Kubernetes API), whose pod is played by this test as a kubelet would run it: the
// Job's own command and environment, its Secret volume and other volumes resolved, as a real
// process — so run-task.js runs the real Claude Code CLI against the scripted model from nothing
// but the Job: the runner's task API URL and the token file. No database or Redis URL, no model
// key: everything goes through the runner (task API, model gateway).
const NAMESPACE = 'hangar-tasks';

describe('kubernetes executor, end to end', () => {
  let stack: ServiceStack;
  let fake: FakeKubeApi;
  const containers = new Map<
    string,
    {
      child: ChildProcess;
      exited: Promise<TerminationOptions>;
      output: string[];
      env: Record<string, string>;
    }
  >();

  beforeAll(async () => {
    stack = await ServiceStack.create('kube_e2e');
    fake = await startFakeKubeApi();
    const kubeconfig = path.join(stack.dataDir, 'kubeconfig');
    await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
    fake.onJobCreated((job) => runPod(job));
    fake.setKubelet({
      stop: (pod) => stopContainer(pod.metadata?.labels?.['batch.kubernetes.io/job-name'] ?? ''),
    });
    await stack.start(['scripted-model', 'gateway', 'websocket-pool', 'orchestrator']);
    // The runner's endpoints, where its task pods reach them (a Service in a cluster).
    const taskApiPort = await freePort();
    await stack.start(['agent-runner'], {
      RUNNER_EXECUTOR: 'kubernetes',
      RUNNER_KUBECONFIG: kubeconfig,
      RUNNER_JOB_NAMESPACE: NAMESPACE,
      RUNNER_JOB_IMAGE: 'ghcr.io/hangar-dev/hangar-agent-runner:e2e',
      RUNNER_TASK_API_PORT: String(taskApiPort),
      RUNNER_TASK_API_URL: `http://127.0.0.1:${taskApiPort}`,
      RUNNER_LEASE_RETRY_MS: '200',
      // Pods hear of a cancellation only through their Job's deletion (SIGTERM), not a heartbeat.
      HEARTBEAT_INTERVAL_MS: '60000',
      // Warm pods for the profiles that ask for them (none until a test makes one).
      RUNNER_JOB_WARM_MAX: '1',
      RUNNER_JOB_RESYNC_MS: '300',
    });
  });

  afterAll(async () => {
    for (const { child } of containers.values()) child.kill('SIGKILL');
    await stack?.dispose();
    await fake?.close();
  });

  // The kubelet's part: bind and start the pod, run its container's command with its env (plain
  // values: a secretKeyRef would throw) and its volumes as folders of this machine — a Secret
  // volume once its Secret exists, as the kubelet waits for it — and report how it exited.
  function runPod(job: V1Job) {
    const name = job.metadata!.name!;
    const spec = job.spec!.template.spec!;
    const container = spec.containers[0]!;
    const podDir = path.join(stack.dataDir, 'pods', name);
    const mounts = (container.volumeMounts ?? []).map((mount) => ({
      ...mount,
      hostPath: path.join(podDir, mount.name),
    }));
    const entry = {
      child: undefined as unknown as ChildProcess,
      output: [] as string[],
      exited: undefined as unknown as Promise<TerminationOptions>,
      env: {} as Record<string, string>,
    };
    containers.set(name, entry);
    entry.exited = (async (): Promise<TerminationOptions> => {
      for (const mount of mounts) {
        await mkdir(mount.hostPath, { recursive: true });
        const volume = spec.volumes?.find((candidate) => candidate.name === mount.name)?.secret;
        if (!volume) continue;
        const secret = await fake.whenExists('secrets', NAMESPACE, volume.secretName!);
        for (const item of volume.items ?? []) {
          const value = Buffer.from(secret.data?.[item.key] ?? '', 'base64');
          await writeFile(path.join(mount.hostPath, item.path), value, { mode: volume.defaultMode });
        }
      }
      const onHost = (value: string) => {
        const mount = mounts.find(
          (candidate) => value === candidate.mountPath || value.startsWith(`${candidate.mountPath}/`),
        );
        return mount ? mount.hostPath + value.slice(mount.mountPath.length) : value;
      };
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: path.join(podDir, 'home'),
      };
      for (const variable of container.env ?? []) env[variable.name] = onHost(valueOf(variable));
      entry.env = env;
      const [node, script, ...args] = container.command!;
      expect(node).toBe('node');
      fake.runPod(NAMESPACE, name);
      const child = spawn(process.execPath, [path.join(REPO_ROOT, script!), ...args], { cwd: podDir, env });
      entry.child = child;
      child.stdout.on('data', (chunk: Buffer) => entry.output.push(chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => entry.output.push(chunk.toString('utf8')));
      const code = await new Promise<number>((resolve) =>
        child.once('exit', (exitCode) => resolve(exitCode ?? 137)),
      );
      return { exitCode: code, reason: code === 0 ? 'Completed' : 'Error' };
    })();
    // A container that ends by itself: the kubelet reports it (one being deleted is reported by stop()).
    void entry.exited.then((termination) => {
      const pod = fake.podsOfJob(NAMESPACE, name)[0];
      if (pod && !pod.metadata?.deletionTimestamp) fake.terminatePod(NAMESPACE, name, termination);
    });
  }

  async function stopContainer(jobName: string): Promise<TerminationOptions> {
    const container = containers.get(jobName);
    if (!container) return { exitCode: 143, reason: 'Error' };
    container.child.kill('SIGTERM');
    return container.exited;
  }

  function valueOf(variable: V1EnvVar): string {
    if (variable.valueFrom) throw new Error(`${variable.name} is not a plain value in the Job`);
    return variable.value ?? '';
  }

  // What a pod's process held: the task API URL and the token file, and nothing of the platform's
  // (a warm pod is not told an attempt: it is given one).
  function expectNoPlatformSecrets(jobName: string, warm = false) {
    const { env } = containers.get(jobName)!;
    expect(Object.keys(env).sort()).toEqual(
      [
        ...(warm ? [] : ['HANGAR_TASK_ATTEMPT']),
        'PATH',
        'HOME',
        'LOG_LEVEL',
        'HEARTBEAT_INTERVAL_MS',
        'RUNNER_MAX_OUTPUT_BYTES',
        'RUNNER_MAX_EVENT_BYTES',
        'RUNNER_TASK_API_URL',
        'HANGAR_TASK_TOKEN_FILE',
        'WORKSPACE_ROOT',
        'RUNNER_HOME_ROOT',
      ].sort(),
    );
    const values = JSON.stringify(env);
    const platform = stack.environment();
    for (const secret of [platform.DATABASE_URL!, platform.REDIS_URL!, platform.SCRIPTED_MODEL_URL!])
      expect(values).not.toContain(secret);
    expect(values).not.toContain('hga_');
    expect(values).not.toContain('hgw_');
  }

  it('should run a task as a Job whose pod runs the real agent CLI, and stream it live', async () => {
    const task = await createTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });
    const follower = follow(stack, task.id, 0);
    await follower.ack;
    const events = await follower.finished;
    follower.close();
    const jobName = `hangar-task-${task.id}-1`;
    const done = await getTask(stack, task.id);
    expect({ ...done, pod: containers.get(jobName)?.output.join('') }).toMatchObject({
      status: 'COMPLETED',
      attempts: 1,
    });
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['tool.use', 'result']));
    // The file the agent wrote is in the pod's workspace volume.
    expect(done.workspace).toBe(path.join(stack.dataDir, 'pods', jobName, 'workspace', task.id));
    expect(await readFile(path.join(done.workspace!, 'hello.txt'), 'utf8')).toBe('hello from hangar\n');
    // The pod exited 0 and the Job completed; it stays for its TTL.
    expect(await containers.get(jobName)!.exited).toEqual({ exitCode: 0, reason: 'Completed' });
    expect(fake.job(NAMESPACE, jobName)?.status?.conditions?.map((condition) => condition.type)).toContain(
      'Complete',
    );
    expect(fake.jobs(NAMESPACE)).toHaveLength(1);
    expectNoPlatformSecrets(jobName);
    // Its token ended with the attempt.
    const token = Buffer.from(fake.secret(NAMESPACE, jobName)!.data!['token']!, 'base64').toString();
    const refused = await fetch(`${containers.get(jobName)!.env.RUNNER_TASK_API_URL}/task-api/v1/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
  });

  it('should stop a cancelled task by deleting its Job, and the pod record CANCELLED', async () => {
    const task = await createTask(stack, { prompt: 'take your time', scenario: 'slow' });
    const follower = follow(stack, task.id, 0);
    await follower.waitFor((event) => event.type === 'task.status' && event.data['status'] === 'RUNNING');
    const cancel = await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    expect(cancel.status).toBe(202);
    const events = await follower.finished;
    follower.close();
    expect(events.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'CANCELLED' } });
    expect(await getTask(stack, task.id)).toMatchObject({
      status: 'CANCELLED',
      error: 'cancelled: stopped on request',
    });
    const jobName = `hangar-task-${task.id}-1`;
    expect((await containers.get(jobName)!.exited).exitCode).toBe(0);
    const deletion = fake.requests.find(
      (recorded) => recorded.method === 'DELETE' && recorded.path.endsWith(`/jobs/${jobName}`),
    );
    expect(deletion?.query['propagationPolicy']).toBe('Foreground');
    expectNoPlatformSecrets(jobName);
  });

  describe('warm pods', () => {
    const runnerMetrics = async () =>
      (await fetch(`http://127.0.0.1:${stack.ports.get('agent-runner')}/metrics`)).text();
    // A sample of the runner's /metrics carrying every label given (0 when absent).
    const metric = async (name: string, labels: Record<string, string> = {}) => {
      const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
      const line = (await runnerMetrics())
        .split('\n')
        .find(
          (candidate) => candidate.startsWith(`${name}{`) && wanted.every((pair) => candidate.includes(pair)),
        );
      return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? 0);
    };
    const warmJobNames = () =>
      fake
        .jobs(NAMESPACE)
        .filter(
          (job) =>
            job.metadata?.labels?.['hangar.dev/warm-profile'] &&
            !job.metadata.labels['hangar.dev/task'] &&
            !job.metadata.deletionTimestamp,
        )
        .map((job) => job.metadata!.name!);
    // Resolves once the runner counts a warm pod whose CLI waits.
    const warmPodReady = async () => {
      const deadline = Date.now() + 60_000;
      while ((await metric('hangar_runner_warm_jobs', { state: 'ready' })) !== 1) {
        if (Date.now() > deadline)
          throw new Error(
            `no warm pod got ready; its pods said:\n${warmJobNames()
              .map((name) => containers.get(name)?.output.join(''))
              .join('\n')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const run = async (body: Record<string, unknown>) => {
      const created = await createTask(stack, body);
      const follower = follow(stack, created.id, 0);
      await follower.ack;
      const events = await follower.finished;
      follower.close();
      return { ...(await taskWithDiff(stack, created.id)), events };
    };
    // Where the workspace was differs (/workspace/<task id> in a cold pod, the folder the CLI
    // started in in a warm one): compared as <workspace>.
    const shape = (run: { events: TaskEvent[]; task: Task }) => eventShape(run.events, run.task.workspace!);
    const comparable = comparableDiff;

    it("should serve a task from a warm pod's waiting CLI as a cold pod would: same events, result and diff", async () => {
      for (const [name, warm] of [
        ['warm', 1],
        ['cold-twin', 0],
      ] as const)
        expect((await request(stack, 'POST', '/api/v1/profiles', { name, warm })).status).toBe(201);
      await warmPodReady();
      const [warmJob] = warmJobNames();
      expect(warmJob).toMatch(/^hangar-warm-/);
      expectNoPlatformSecrets(warmJob!, true);

      const warm = await run({ prompt: 'write it', scenario: 'write-file', profile: 'warm' });
      const cold = await run({ prompt: 'write it', scenario: 'write-file', profile: 'cold-twin' });
      expect(warm.task.status).toBe('COMPLETED');
      expect(cold.task.status).toBe('COMPLETED');
      expect(await metric('hangar_runner_warm_job_takes_total', { outcome: 'hit' })).toBe(1);
      // The warm one ran in the warm Job's pod, no Job of its own; the cold one in its own.
      expect(fake.job(NAMESPACE, `hangar-task-${warm.task.id}-1`)).toBeUndefined();
      expect(fake.job(NAMESPACE, warmJob!)?.metadata?.labels?.['hangar.dev/task']).toBe(warm.task.id);
      expect(fake.job(NAMESPACE, `hangar-task-${cold.task.id}-1`)).toBeDefined();

      expect(shape(warm)).toEqual(shape(cold));
      expect(shape(warm)).toContain(
        'tool.use Write {"file_path":"<workspace>/hello.txt","content":"hello from hangar\\n"}',
      );
      expect(warm.task.result).toBe(cold.task.result);
      expect(warm.task.result).toBe('Wrote hello.txt');
      expect(comparable(warm.diff)).toEqual(comparable(cold.diff));
      expect(comparable(warm.diff).files).toEqual([
        expect.objectContaining({ path: 'hello.txt', status: 'added' }),
      ]);
      // Its workspace is where the pod's CLI started, on the task's branch.
      expect(warm.task.branch).toBe(`hangar/${warm.task.id}`);
      expect(path.dirname(warm.task.workspace!)).toBe(
        path.join(stack.dataDir, 'pods', warmJob!, 'workspace'),
      );
      expect(await readFile(path.join(warm.task.workspace!, 'hello.txt'), 'utf8')).toBe(
        'hello from hangar\n',
      );
      expect(await containers.get(warmJob!)!.exited).toEqual({ exitCode: 0, reason: 'Completed' });

      // Another warm pod takes its place; a profile that no longer asks for one keeps none.
      await waitUntil(
        () => warmJobNames().length === 1 && warmJobNames()[0] !== warmJob,
        30_000,
        'a new warm Job',
      );
      expect((await request(stack, 'PATCH', '/api/v1/profiles/warm', { warm: 0 })).status).toBe(200);
      await waitUntil(() => warmJobNames().length === 0, 30_000, 'no warm Job left');
    });
  });
});
