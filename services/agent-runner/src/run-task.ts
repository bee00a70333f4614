import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@hangar/config';
import {
  TASK_API_WARM_WAIT_MS,
  TaskApiWarmAssignmentSchema,
  TaskApiWarmProfileSchema,
} from '@hangar/contracts';
import { hashAttemptToken, newAttemptToken } from '@hangar/db';
import { createLogger, PinoNestLogger } from '@hangar/observability';
import { TaskApiClient, TaskApiError } from './modules/attempts/task-api.client';
import { PodWarmAgent } from './modules/single-task/pod-warm-agent';
import { SingleTaskModule } from './modules/single-task/single-task.module';
import { RUN_TASK_EXIT, SingleTaskService } from './modules/single-task/single-task.service';
import { readTaskToken, TaskPodConfigSchema } from './task-pod.config';

// One task attempt in this process, then exit: the entrypoint of a Kubernetes Job's pod.
//   node services/agent-runner/dist/run-task.js <task id>
// HANGAR_TASK_ATTEMPT names the attempt (default 1); the token in HANGAR_TASK_TOKEN_FILE must be
// that attempt's. Everything is recorded through the runner's task API at RUNNER_TASK_API_URL:
// this process holds no database or Redis credential. Exit codes: RUN_TASK_EXIT.
//   node services/agent-runner/dist/run-task.js --warm
// A warm pod (docs/performance.md): the token is the pod's own; the profile's CLI is started
// first, then the pod waits for the controller to give it an attempt, and runs that one.
async function main(): Promise<number> {
  if (process.argv[2] === '--warm') return warm();
  const taskId = process.argv[2];
  const attempt = Number(process.env.HANGAR_TASK_ATTEMPT ?? '1');
  if (!taskId || !/^[A-Za-z0-9_-]{1,100}$/.test(taskId) || !Number.isInteger(attempt) || attempt < 1) {
    console.error(
      'usage: node services/agent-runner/dist/run-task.js <task id>   (HANGAR_TASK_ATTEMPT: a whole number ≥ 1, default 1)\n       node services/agent-runner/dist/run-task.js --warm        (a warm task pod: waits to be given an attempt)',
    );
    return RUN_TASK_EXIT.usage;
  }
  const config = loadConfig('run-task', TaskPodConfigSchema);
  const log = createLogger('run-task', config.LOG_LEVEL);
  const app = await NestFactory.createApplicationContext(
    SingleTaskModule.forRoot(config, readTaskToken(config)),
    { logger: new PinoNestLogger(log) },
  );
  await app.init();
  const single = app.get(SingleTaskService);
  const stop = () => void single.stop();
  process.once('SIGTERM', stop).once('SIGINT', stop);
  try {
    return await single.run(taskId, attempt);
  } catch (error) {
    log.error({ err: error, taskId }, 'the run failed');
    return RUN_TASK_EXIT.crashed;
  } finally {
    await app.close();
  }
}

async function warm(): Promise<number> {
  const config = loadConfig('run-task', TaskPodConfigSchema);
  const log = createLogger('run-task', config.LOG_LEVEL);
  const pod = new TaskApiClient({
    url: config.RUNNER_TASK_API_URL,
    token: readTaskToken(config),
    timeoutMs: TASK_API_WARM_WAIT_MS + 30_000,
  });
  const answer = await pod
    .call('warmProfile', undefined, TaskApiWarmProfileSchema)
    .catch((error: unknown) => {
      // The profile changed since the Job was made: the controller replaces the pod.
      if (error instanceof TaskApiError && error.status === 409) return null;
      throw error;
    });
  if (!answer) {
    log.warn("this warm pod's profile has changed: nothing to do");
    return RUN_TASK_EXIT.notWaiting;
  }
  const { profile } = answer;
  // The credential the CLI starts with: nobody's until the controller issues it to the attempt it
  // gives this pod. Only its sha256 leaves the pod.
  const attemptToken = newAttemptToken();
  const app = await NestFactory.createApplicationContext(SingleTaskModule.forRoot(config, attemptToken), {
    logger: new PinoNestLogger(log),
  });
  await app.init();
  const single = app.get(SingleTaskService);
  const agent = app.get(PodWarmAgent);
  let stop = (): void => undefined;
  const stopped = new Promise<'stopped'>((resolve) => (stop = () => resolve('stopped')));
  const onSignal = () => stop();
  process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
  try {
    const { gone } = await agent.start(profile);
    const exited = gone.then((code) => ({ exited: code }));
    for (;;) {
      const next = await Promise.race([
        pod.call(
          'warmAssignment',
          { attemptTokenHash: hashAttemptToken(attemptToken) },
          TaskApiWarmAssignmentSchema,
        ),
        exited,
        stopped,
      ]);
      if (next === 'stopped') {
        await agent.stop();
        return RUN_TASK_EXIT.notWaiting;
      }
      if ('exited' in next) {
        log.error(`the profile's CLI exited (${next.exited}) before an attempt was given to this pod`);
        return RUN_TASK_EXIT.crashed;
      }
      if (!next.assignment) continue;
      const { taskId, attempt } = next.assignment;
      log.info({ taskId, attempt }, 'an attempt was given to this warm pod');
      process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
      const stopRun = () => void single.stop();
      process.once('SIGTERM', stopRun).once('SIGINT', stopRun);
      return await single.run(taskId, attempt);
    }
  } catch (error) {
    log.error({ err: error }, 'the warm pod failed');
    await agent.stop();
    return RUN_TASK_EXIT.crashed;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(RUN_TASK_EXIT.crashed);
  },
);
