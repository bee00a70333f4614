import type { Principal } from '@hangar/auth';

// Who started a run or decided a step, as runs and steps record it: short and stable (the
// audit log keeps the full actor).
export function actorLabel(principal: Principal): string {
  if (principal.user) return `user:${principal.user.email}`;
  if (principal.token) return `token:${principal.token.name}`;
  return principal.actor.label;
}
