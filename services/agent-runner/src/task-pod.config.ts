import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { baseServiceEnv } from '@hangar/config';
import { attemptRunEnv, httpUrl } from './config';

// run-task.js in a task pod (kubernetes executor): everything it reaches is the runner's task
// API, with the attempt's token from the Job's Secret. It reads no database or Redis URL, model
// key or git token; the controller gives it only these settings (docs/configuration.md).
export const TaskPodConfigSchema = z.object({
  LOG_LEVEL: baseServiceEnv.LOG_LEVEL,
  RUNNER_TASK_API_URL: httpUrl().describe(
    "the runner's endpoints for task pods: task API, model gateway, egress proxy",
  ),
  HANGAR_TASK_TOKEN_FILE: z
    .string()
    .regex(/^\//, 'must be an absolute path')
    .describe("file holding the attempt's token (the Job's Secret, mounted read-only)"),
  ...attemptRunEnv,
});
export type TaskPodConfig = z.infer<typeof TaskPodConfigSchema>;
export const TASK_POD_CONFIG = Symbol('TASK_POD_CONFIG');

export function readTaskToken(config: TaskPodConfig): string {
  const token = readFileSync(config.HANGAR_TASK_TOKEN_FILE, 'utf8').trim();
  if (!token) throw new Error(`${config.HANGAR_TASK_TOKEN_FILE} holds no token`);
  return token;
}
