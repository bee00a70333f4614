import type { Palette } from '../output/palette';
import { ApiError, GatewayUnreachable } from './gateway-client';

// One readable line per problem: `error: prompt: must not be empty`.
export function formatApiError(error: unknown, palette: Palette, hint?: string): string[] {
  if (error instanceof GatewayUnreachable) {
    return [
      `${palette.red('error:')} cannot reach the gateway at ${error.baseUrl} (${error.reason})`,
      palette.dim(hint ?? 'is `hangar up` running? (the address comes from --api or HANGAR_API_URL)'),
    ];
  }
  if (error instanceof ApiError) {
    const problem = error.problem;
    const lines =
      problem?.errors && problem.errors.length > 0
        ? problem.errors.map(
            (item) => `${palette.red('error:')} ${item.field === '' ? '' : `${item.field}: `}${item.message}`,
          )
        : [`${palette.red('error:')} ${error.message}`];
    const facts = [
      `HTTP ${error.status}`,
      problem?.code === undefined ? undefined : problem.code,
      problem?.traceId === undefined ? undefined : `trace ${problem.traceId}`,
    ].filter((fact): fact is string => fact !== undefined);
    const advice =
      error.status === 401
        ? [
            palette.dim(
              'set HANGAR_TOKEN to an API token of the project (make one in the dashboard under Settings → ' +
                'API tokens, or POST /api/v1/tokens); `hangar up` makes one for this machine',
            ),
          ]
        : [];
    return [...lines, palette.dim(`(${facts.join(', ')})`), ...advice];
  }
  return [`${palette.red('error:')} ${error instanceof Error ? error.message : String(error)}`];
}
