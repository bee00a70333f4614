import type { AgentEvent, AgentEventOf, TaskUsage } from '@hangar/contracts';

export interface AgentRunSummary {
  result: string | null;
  costUsd: number | null;
  usage: TaskUsage | null;
  numTurns: number | null;
  durationMs: number | null;
  agentSessionId: string | null;
  // True also when the agent never reported a result (it crashed, was killed or timed out).
  isError: boolean;
}

export function summarizeResult(events: readonly AgentEvent[]): AgentRunSummary {
  const result = findLast(events, 'result');
  const init = findLast(events, 'system.init');
  const agentSessionId = result?.data.sessionId ?? init?.data.sessionId ?? null;
  if (!result) {
    return {
      result: null,
      costUsd: null,
      usage: null,
      numTurns: null,
      durationMs: null,
      agentSessionId,
      isError: true,
    };
  }
  return {
    result: result.data.result,
    costUsd: result.data.costUsd,
    usage: result.data.usage,
    numTurns: result.data.numTurns,
    durationMs: result.data.durationMs,
    agentSessionId,
    isError: result.data.isError,
  };
}

function findLast<T extends AgentEvent['type']>(
  events: readonly AgentEvent[],
  type: T,
): AgentEventOf<T> | undefined {
  for (let index = events.length - 1; index >= 0; index -= 1) {
    const event = events[index];
    if (event?.type === type) return event as AgentEventOf<T>;
  }
  return undefined;
}
