import { type CreateTaskRequest, CreateTaskSchema } from '@hangar/contracts';

export interface RunFlags {
  scenario?: string;
  profile?: string;
  timeout?: string;
}

export type CreateTaskInput = { ok: true; request: CreateTaskRequest } | { ok: false; errors: string[] };

// Field names in messages are what the person typed: `--timeout`, not `timeoutSeconds`.
const FIELD_LABELS: Record<string, string> = {
  prompt: 'prompt',
  scenario: '--scenario',
  profile: '--profile',
  timeoutSeconds: '--timeout',
};

// The same schema the gateway applies, checked here so a typo costs no round trip.
export function buildCreateTaskRequest(prompt: string, flags: RunFlags): CreateTaskInput {
  const errors: string[] = [];
  let timeoutSeconds: number | undefined;
  if (flags.timeout !== undefined) {
    if (/^\s*\d+\s*$/.test(flags.timeout)) timeoutSeconds = Number(flags.timeout);
    else errors.push(`--timeout: must be a whole number of seconds — got "${flags.timeout}"`);
  }
  const candidate = {
    prompt,
    ...(flags.profile === undefined ? {} : { profile: flags.profile }),
    ...(flags.scenario === undefined ? {} : { scenario: flags.scenario }),
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
  };
  const parsed = CreateTaskSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path.map(String).join('.');
      errors.push(`${FIELD_LABELS[field] ?? field}: ${issue.message}`);
    }
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, request: parsed.data };
}
