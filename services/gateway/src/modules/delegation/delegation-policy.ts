import type { ChildTaskRequest, DelegationSettings, Task, WorkflowDefinition } from '@hangar/contracts';

type Parent = Pick<
  Task,
  'id' | 'status' | 'attempts' | 'profile' | 'rootTaskId' | 'depth' | 'startedAt' | 'timeoutSeconds'
>;

export type ChildPlacement =
  | { ok: true; profile: string; depth: number; rootTaskId: string; timeoutSeconds: number }
  | { ok: false; message: string };

export type ChildRunPlacement = { ok: true; depth: number } | { ok: false; message: string };

// Whether a running task's agent may start this child, and what the child inherits: its
// profile (one the parent's profile allows), its place in the tree, and at most the time the
// parent has left (a child never outlives the parent that waits for it). Pure: the counting of
// children (maxChildren) is done where the child is recorded, under a lock.
export function placeChild(
  parent: Parent,
  attempt: number,
  settings: DelegationSettings,
  request: Pick<ChildTaskRequest, 'profile' | 'timeoutSeconds'>,
  now: Date,
): ChildPlacement {
  const profile = request.profile ?? settings.profiles[0] ?? parent.profile;
  const refusal = refuse(parent, attempt, settings, [profile]);
  if (refusal) return { ok: false, message: refusal };
  const left = secondsLeft(parent, now);
  if (left < 1) return { ok: false, message: `task ${parent.id} has no time left to wait for a child` };
  return {
    ok: true,
    profile,
    depth: parent.depth + 1,
    rootTaskId: parent.rootTaskId,
    timeoutSeconds: Math.min(request.timeoutSeconds ?? left, left),
  };
}

// The same for a workflow run: every step's profile must be one the parent may use.
export function placeChildRun(
  parent: Parent,
  attempt: number,
  settings: DelegationSettings,
  definition: WorkflowDefinition,
): ChildRunPlacement {
  const refusal = refuse(parent, attempt, settings, workflowProfiles(definition));
  return refusal ? { ok: false, message: refusal } : { ok: true, depth: parent.depth + 1 };
}

// The profiles a workflow's agent steps run on (the project's `default` where a step names none).
export function workflowProfiles(definition: WorkflowDefinition): string[] {
  const profiles = new Set<string>();
  const visit = (steps: readonly WorkflowDefinition['steps'][number][]) => {
    for (const step of steps) {
      if (step.type === 'loop') visit(step.steps);
      else if (step.type !== 'approval') profiles.add(step.profile ?? 'default');
    }
  };
  visit(definition.steps);
  return [...profiles];
}

function refuse(
  parent: Parent,
  attempt: number,
  settings: DelegationSettings,
  profiles: readonly string[],
): string | undefined {
  if (parent.status !== 'RUNNING' || parent.attempts !== attempt)
    return `task ${parent.id} is no longer running this attempt: it cannot start tasks`;
  if (!settings.enabled || settings.profiles.length === 0)
    return `profile "${parent.profile}" does not allow delegation: do the work yourself`;
  const refused = profiles.filter((profile) => !settings.profiles.includes(profile));
  if (refused.length > 0)
    return `profile ${refused.map((name) => `"${name}"`).join(', ')} is not one this task may delegate to; use one of: ${settings.profiles.join(', ')}`;
  const depth = parent.depth + 1;
  if (depth > settings.maxDepth)
    return `depth limit reached: a child here would be at depth ${depth}, and profile "${parent.profile}" allows at most ${settings.maxDepth}; do this work yourself instead of delegating it`;
  return undefined;
}

function secondsLeft(parent: Parent, now: Date): number {
  const started = parent.startedAt ? Date.parse(parent.startedAt) : now.getTime();
  return Math.floor((started + parent.timeoutSeconds * 1000 - now.getTime()) / 1000);
}
