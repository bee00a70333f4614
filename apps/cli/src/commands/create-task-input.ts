import { type CreateTaskRequest, CreateTaskSchema } from '@hangar/contracts';

export interface RunFlags {
  scenario?: string;
  profile?: string;
  timeout?: string;
  // --require, once per label.
  require?: string[];
}

export type CreateTaskInput = { ok: true; request: CreateTaskRequest } | { ok: false; errors: string[] };

// Field names in messages are what the person typed: `--timeout`, not `timeoutSeconds`.
const FIELD_LABELS: Record<string, string> = {
  prompt: 'prompt',
  scenario: '--scenario',
  profile: '--profile',
  timeoutSeconds: '--timeout',
  requires: '--require',
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
    ...(flags.require?.length ? { requires: flags.require } : {}),
  };
  const parsed = CreateTaskSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [field = '', index] = issue.path.map(String);
      const label = FIELD_LABELS[field] ?? field;
      const given = field === 'requires' && index !== undefined ? ` "${flags.require?.[Number(index)]}"` : '';
      errors.push(`${label}${given}: ${issue.message}`);
    }
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, request: parsed.data };
}
