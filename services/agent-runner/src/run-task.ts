import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@hangar/config';
import { createLogger, PinoNestLogger } from '@hangar/observability';
import { SingleTaskModule } from './modules/single-task/single-task.module';
import { RUN_TASK_EXIT, SingleTaskService } from './modules/single-task/single-task.service';
import { readTaskToken, TaskPodConfigSchema } from './task-pod.config';

// One task attempt in this process, then exit: the entrypoint of a Kubernetes Job's pod.
//   node services/agent-runner/dist/run-task.js <task id>
// HANGAR_TASK_ATTEMPT names the attempt (default 1); the token in HANGAR_TASK_TOKEN_FILE must be
// that attempt's. Everything is recorded through the runner's task API at RUNNER_TASK_API_URL:
// this process holds no database or Redis credential. Exit codes: RUN_TASK_EXIT.
async function main(): Promise<number> {
  const taskId = process.argv[2];
  const attempt = Number(process.env.HANGAR_TASK_ATTEMPT ?? '1');
  if (!taskId || !/^[A-Za-z0-9_-]{1,100}$/.test(taskId) || !Number.isInteger(attempt) || attempt < 1) {
    console.error(
      'usage: node services/agent-runner/dist/run-task.js <task id>   (HANGAR_TASK_ATTEMPT: a whole number ≥ 1, default 1)',
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(RUN_TASK_EXIT.crashed);
  },
);
