import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@hangar/config';
import { PinoNestLogger } from '@hangar/observability';
import { bootProcess } from '@hangar/platform';
import { AgentRunnerConfigSchema, readModelKeyFiles } from './config';
import { SingleTaskModule } from './modules/single-task/single-task.module';
import { RUN_TASK_EXIT, SingleTaskService } from './modules/single-task/single-task.service';

// One task attempt in this process, then exit: the entrypoint of a Kubernetes Job's pod.
//   node services/agent-runner/dist/run-task.js <task id>
// HANGAR_TASK_ATTEMPT names the attempt to claim (default 1); RUNNER_ID names this run in the
// task record and its heartbeats. Exit codes: RUN_TASK_EXIT.
async function main(): Promise<number> {
  const taskId = process.argv[2];
  const attempt = Number(process.env.HANGAR_TASK_ATTEMPT ?? '1');
  if (!taskId || !/^[A-Za-z0-9_-]{1,100}$/.test(taskId) || !Number.isInteger(attempt) || attempt < 1) {
    console.error(
      'usage: node services/agent-runner/dist/run-task.js <task id>   (HANGAR_TASK_ATTEMPT: a whole number ≥ 1, default 1)',
    );
    return RUN_TASK_EXIT.usage;
  }
  readModelKeyFiles(process.env);
  const config = loadConfig('agent-runner', AgentRunnerConfigSchema);
  const { tracing, log } = await bootProcess({ name: 'agent-runner', config });
  const app = await NestFactory.createApplicationContext(SingleTaskModule.forRoot(config), {
    logger: new PinoNestLogger(log),
  });
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
    await tracing.shutdown();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(RUN_TASK_EXIT.crashed);
  },
);
