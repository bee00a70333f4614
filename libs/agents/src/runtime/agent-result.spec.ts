import type { AgentEvent } from '@hangar/contracts';
import { readFixture } from '../../test/support/fixtures';
import { summarizeResult } from './agent-result';
import { ClaudeStreamParser } from '../claude/claude-stream.parser';

function eventsOf(name: string): AgentEvent[] {
  const parser = new ClaudeStreamParser();
  return [...parser.push(readFixture(name)), ...parser.end()];
}

describe(summarizeResult.name, () => {
  it('should take result, cost, usage, turns and session from the result event', () => {
    const events = eventsOf('write-file');
    expect(summarizeResult(events)).toEqual({
      result: 'Wrote hello.txt',
      costUsd: 0.0016,
      usage: { inputTokens: 200, outputTokens: 40, cacheReadTokens: 0, cacheCreationTokens: 0 },
      numTurns: 2,
      durationMs: expect.any(Number),
      agentSessionId: events[0]?.type === 'system.init' ? events[0].data.sessionId : 'missing',
      isError: false,
    });
  });

  it('should report an error when the result says so', () => {
    expect(summarizeResult(eventsOf('fail'))).toMatchObject({ isError: true, costUsd: 0 });
  });

  it('should fall back to the init session id and report an error when there is no result', () => {
    const events = eventsOf('write-file').filter((event) => event.type !== 'result');
    expect(summarizeResult(events)).toEqual({
      result: null,
      costUsd: null,
      usage: null,
      numTurns: null,
      durationMs: null,
      agentSessionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      isError: true,
    });
  });

  it('should report no session when nothing was parsed', () => {
    expect(summarizeResult([])).toMatchObject({ agentSessionId: null, isError: true });
  });
});
