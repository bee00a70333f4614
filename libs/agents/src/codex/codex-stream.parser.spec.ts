import { type AgentEvent, type AgentEventOf, AgentEventSchema } from '@hangar/contracts';
import { readFixture } from '../../test/support/fixtures';
import { summarizeResult } from '../runtime/agent-result';
import { CodexStreamParser } from './codex-stream.parser';

function parseAll(input: Buffer | string, chunkSizes: number[] = []): AgentEvent[] {
  const parser = new CodexStreamParser();
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const events: AgentEvent[] = [];
  let offset = 0;
  for (let index = 0; offset < bytes.length; index += 1) {
    const size = chunkSizes.length === 0 ? bytes.length : (chunkSizes[index % chunkSizes.length] ?? 1);
    events.push(...parser.push(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  return [...events, ...parser.end()];
}

function only<T extends AgentEvent['type']>(events: readonly AgentEvent[], type: T): AgentEventOf<T>[] {
  return events.filter((event): event is AgentEventOf<T> => event.type === type);
}

const fixture = (name: string): AgentEvent[] => parseAll(readFixture(name, 'codex'));

// Fixtures: the real codex 0.169.0 (`codex exec --json`) against the scripted model.
describe(CodexStreamParser.name, () => {
  it('should turn a shell scenario into init, tool use and result, then the reply and the usage', () => {
    const events = fixture('shell');
    expect(events.map((event) => event.type)).toEqual([
      'system.init',
      'unknown',
      'tool.use',
      'tool.result',
      'assistant.text',
      'result',
    ]);
    const sessionId = only(events, 'system.init')[0]?.data.sessionId;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(only(events, 'tool.use')[0]?.data).toEqual({
      toolUseId: 'item_0',
      name: 'command_execution',
      input: { command: "/bin/bash -lc 'echo hangar > codex-output.txt && cat codex-output.txt'" },
    });
    expect(only(events, 'tool.result')[0]?.data).toEqual({
      toolUseId: 'item_0',
      content: 'hangar\n',
      isError: false,
    });
    expect(only(events, 'result')[0]?.data).toEqual({
      subtype: 'success',
      isError: false,
      result: 'Ran the command: codex-output.txt says hangar.',
      costUsd: null,
      usage: { inputTokens: 200, outputTokens: 40, cacheReadTokens: 0, cacheCreationTokens: 0 },
      numTurns: null,
      durationMs: null,
      sessionId,
    });
    for (const event of events) expect(AgentEventSchema.parse(event)).toEqual(event);
  });

  it('should mark a command that exits non-zero as a failed tool result when the scenario is tool-error', () => {
    const results = only(fixture('tool-error'), 'tool.result').map((event) => event.data);
    expect(results).toEqual([
      { toolUseId: 'item_0', content: 'cat: missing.txt: No such file or directory\n', isError: true },
      { toolUseId: 'item_1', content: 'recovered\n', isError: false },
    ]);
  });

  it('should report a file change as a tool use and its result', () => {
    const events = fixture('apply-patch');
    expect(only(events, 'tool.use')[0]?.data).toEqual({
      toolUseId: 'item_0',
      name: 'file_change',
      input: { changes: [{ path: '/tmp/hangar-fixture-codex-apply-patch/work/notes.txt', kind: 'add' }] },
    });
    expect(only(events, 'tool.result')[0]?.data).toEqual({
      toolUseId: 'item_0',
      content: 'add /tmp/hangar-fixture-codex-apply-patch/work/notes.txt',
      isError: false,
    });
  });

  it('should turn reasoning into thinking and keep the last agent message as the result', () => {
    const events = fixture('thinking');
    expect(only(events, 'assistant.thinking')[0]?.data.text).toBe(
      'The user wants a short answer; the working directory is /tmp/hangar-fixture-codex-thinking/work.',
    );
    expect(summarizeResult(events)).toMatchObject({ result: 'Here is a considered answer.', isError: false });
  });

  it('should turn Reconnecting notices into api.retry with the HTTP status', () => {
    expect(only(fixture('rate-limited'), 'api.retry')).toEqual([
      {
        type: 'api.retry',
        data: {
          attempt: 1,
          maxRetries: 5,
          status: 429,
          error: expect.stringContaining('last status: 429 Too Many Requests'),
        },
      },
    ]);
  });

  it('should report a failed turn as an error result with the API message', () => {
    const events = fixture('fail');
    expect(summarizeResult(events)).toMatchObject({
      isError: true,
      costUsd: null,
      result: expect.stringContaining('scripted failure: this request is refused'),
      agentSessionId: only(events, 'system.init')[0]?.data.sessionId,
    });
    expect(only(events, 'unknown').map((event) => event.data.raw)).toContainEqual(
      expect.objectContaining({ type: 'error' }),
    );
  });

  it.each([[[1]], [[2, 3, 5, 7]], [[4096]]])(
    'should yield the same events in chunks of %j bytes',
    (sizes) => {
      for (const name of ['shell', 'tool-error', 'apply-patch']) {
        const input = readFixture(name, 'codex');
        expect(parseAll(input, sizes)).toEqual(parseAll(input));
      }
    },
  );

  it('should count cached and cache-write tokens apart from input, as Hangar does for every CLI', () => {
    const line = JSON.stringify({
      type: 'turn.completed',
      usage: {
        input_tokens: 1000,
        cached_input_tokens: 600,
        cache_write_input_tokens: 150,
        output_tokens: 70,
      },
    });
    expect(parseAll(`${line}\n`)).toEqual([
      {
        type: 'result',
        data: expect.objectContaining({
          usage: { inputTokens: 250, outputTokens: 70, cacheReadTokens: 600, cacheCreationTokens: 150 },
          sessionId: null,
        }),
      },
    ]);
  });

  it('should announce a tool that arrives completed without a start, and keep unknown items whole', () => {
    const search = { type: 'item.completed', item: { id: 'item_5', type: 'web_search', query: 'hangar' } };
    const todo = { type: 'item.completed', item: { id: 'item_6', type: 'todo_list', items: [] } };
    const warning = { type: 'item.completed', item: { id: 'item_7', type: 'error', message: 'careful' } };
    expect(parseAll([search, todo, warning].map((line) => JSON.stringify(line)).join('\n'))).toEqual([
      { type: 'tool.use', data: { toolUseId: 'item_5', name: 'web_search', input: { query: 'hangar' } } },
      { type: 'tool.result', data: { toolUseId: 'item_5', content: '', isError: false } },
      { type: 'unknown', data: { raw: todo } },
      { type: 'unknown', data: { raw: warning } },
    ]);
  });

  it('should name an MCP tool call after its server and tool, with the error as a failed result', () => {
    const call = {
      type: 'item.completed',
      item: {
        id: 'item_2',
        type: 'mcp_tool_call',
        server: 'docs',
        tool: 'search',
        arguments: { q: 'x' },
        error: { message: 'server down' },
        status: 'failed',
      },
    };
    expect(parseAll(JSON.stringify(call))).toEqual([
      { type: 'tool.use', data: { toolUseId: 'item_2', name: 'mcp__docs__search', input: { q: 'x' } } },
      { type: 'tool.result', data: { toolUseId: 'item_2', content: 'server down', isError: true } },
    ]);
  });
});
