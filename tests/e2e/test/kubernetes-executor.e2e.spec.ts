import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { V1EnvVar, V1Job } from '@kubernetes/client-node';
import { REPO_ROOT, ServiceStack } from '@hangar/testing';
import { startFakeKubeApi, type FakeKubeApi, type TerminationOptions } from '@hangar/testing/kubernetes';
import { createTask, follow, getTask, request } from './support';

// The whole platform with the kubernetes executor: a task submitted to the gateway becomes a Job
// (in the fake Kubernetes API), whose pod is played by this test as a kubelet would run it: the
// Job's own command and environment, its Secrets and volumes resolved, as a real process — so
// run-task.js runs the real Claude Code CLI against the scripted model from nothing but the Job.
const NAMESPACE = 'hangar-tasks';

describe('kubernetes executor, end to end', () => {
  let stack: ServiceStack;
  let fake: FakeKubeApi;
  const secrets: Record<string, Record<string, string>> = {};
  const containers = new Map<
    string,
    { child: ChildProcess; exited: Promise<TerminationOptions>; output: string[] }
  >();

  beforeAll(async () => {
    stack = await ServiceStack.create('kube_e2e');
    fake = await startFakeKubeApi();
    const kubeconfig = path.join(stack.dataDir, 'kubeconfig');
    await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
    Object.assign(secrets, {
      'hangar-database': { DATABASE_URL: stack.database.url },
      'hangar-redis': { REDIS_URL: stack.environment().REDIS_URL! },
      'hangar-model': { ANTHROPIC_API_KEY: 'sk-ant-from-a-mounted-file' },
    });
    fake.onJobCreated((job) => runPod(job));
    fake.setKubelet({
      stop: (pod) => stopContainer(pod.metadata?.labels?.['batch.kubernetes.io/job-name'] ?? ''),
    });
    await stack.start(['scripted-model', 'gateway', 'websocket-pool', 'orchestrator']);
    await stack.start(['agent-runner'], {
      RUNNER_EXECUTOR: 'kubernetes',
      RUNNER_KUBECONFIG: kubeconfig,
      RUNNER_JOB_NAMESPACE: NAMESPACE,
      RUNNER_JOB_IMAGE: 'ghcr.io/hangar-dev/hangar-agent-runner:e2e',
      RUNNER_JOB_API_KEY_SECRET: 'hangar-model',
      RUNNER_JOB_DATABASE_URL_SECRET: 'hangar-database/DATABASE_URL',
      RUNNER_JOB_REDIS_URL_SECRET: 'hangar-redis/REDIS_URL',
      RUNNER_LEASE_RETRY_MS: '200',
      // Pods hear of a cancellation only through their Job's deletion (SIGTERM), not a heartbeat.
      HEARTBEAT_INTERVAL_MS: '60000',
    });
  });

  afterAll(async () => {
    for (const { child } of containers.values()) child.kill('SIGKILL');
    await stack?.dispose();
    await fake?.close();
  });

  // The kubelet's part: bind and start the pod, run its container's command with its env (values,
  // secretKeyRefs) and its volumes as folders of this machine, report how it exited.
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
    };
    containers.set(name, entry);
    entry.exited = (async (): Promise<TerminationOptions> => {
      for (const mount of mounts) {
        await mkdir(mount.hostPath, { recursive: true });
        const secret = spec.volumes?.find((volume) => volume.name === mount.name)?.secret;
        for (const [key, value] of Object.entries(secrets[secret?.secretName ?? ''] ?? {}))
          await writeFile(path.join(mount.hostPath, key), value, { mode: 0o400 });
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
      for (const variable of container.env ?? []) env[variable.name] = onHost(resolveEnv(variable));
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

  function resolveEnv(variable: V1EnvVar): string {
    const ref = variable.valueFrom?.secretKeyRef;
    if (!ref) return variable.value ?? '';
    const value = ref.name ? secrets[ref.name]?.[ref.key] : undefined;
    if (value === undefined)
      throw new Error(`the pod needs Secret ${ref.name} key ${ref.key}, which does not exist`);
    return value;
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
  });
});
