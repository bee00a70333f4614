import { type AgentEvent, type AgentEventOf, AgentEventSchema } from '@hangar/contracts';
import { readFixture } from '../../test/support/fixtures';
import { ClaudeStreamParser, parseClaudeLine } from './claude-stream.parser';

function parseAll(input: Buffer, chunkSizes?: readonly number[]): AgentEvent[] {
  const parser = new ClaudeStreamParser();
  const events: AgentEvent[] = [];
  if (!chunkSizes) {
    events.push(...parser.push(input));
  } else {
    let offset = 0;
    let turn = 0;
    while (offset < input.length) {
      const size = chunkSizes[turn % chunkSizes.length] ?? 1;
      events.push(...parser.push(input.subarray(offset, offset + size)));
      offset += size;
      turn += 1;
    }
  }
  events.push(...parser.end());
  return events;
}

function only<T extends AgentEvent['type']>(events: AgentEvent[], type: T): AgentEventOf<T>[] {
  return events.filter((event): event is AgentEventOf<T> => event.type === type);
}

const FIXTURES = [
  'write-file',
  'bash',
  'rate-limited',
  'fail',
  'thinking',
  'long-stream',
  'reference-write-file',
];

describe(ClaudeStreamParser.name, () => {
  it.each(FIXTURES)('should produce only contract-valid events when parsing the %s fixture', (name) => {
    const events = parseAll(readFixture(name));
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(AgentEventSchema.parse(event)).toEqual(event);
    expect(events[0]?.type).toBe('system.init');
    expect(only(events, 'result')).toHaveLength(1);
  });

  it('should map a recorded Write run to init, tool use, tool result, text and result', () => {
    const events = parseAll(readFixture('write-file'));
    expect(events.map((event) => event.type)).toEqual([
      'system.init',
      'tool.use',
      'tool.result',
      'assistant.text',
      'result',
    ]);
    const [init] = only(events, 'system.init');
    expect(init?.data).toMatchObject({
      model: 'claude-opus-5-5',
      cwd: '/tmp/hangar-fixture-write-file/work',
      permissionMode: 'acceptEdits',
      cliVersion: '2.1.330',
    });
    expect(init?.data.tools).toEqual(expect.arrayContaining(['Bash', 'Write', 'Edit', 'Read']));
    const [use] = only(events, 'tool.use');
    expect(use?.data).toEqual({
      toolUseId: 'toolu_scripted_0_0',
      name: 'Write',
      input: { file_path: '/tmp/hangar-fixture-write-file/work/hello.txt', content: 'hello from hangar\n' },
      messageId: 'msg_scripted_811ae543a03f3d07',
      // The model call's tokens as its message reported them (the first event of the message).
      usage: { inputTokens: 100, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
    });
    expect(init?.data.mcpServers).toEqual([]);
    const [toolResult] = only(events, 'tool.result');
    expect(toolResult?.data.toolUseId).toBe('toolu_scripted_0_0');
    expect(toolResult?.data.isError).toBe(false);
    expect(toolResult?.data.content).toContain('File created successfully');
    expect(only(events, 'assistant.text')[0]?.data.text).toBe('Wrote hello.txt');
    expect(only(events, 'result')[0]?.data).toEqual({
      subtype: 'success',
      isError: false,
      result: 'Wrote hello.txt',
      costUsd: 0.0016,
      usage: { inputTokens: 200, outputTokens: 40, cacheReadTokens: 0, cacheCreationTokens: 0 },
      numTurns: 2,
      durationMs: expect.any(Number),
      sessionId: init?.data.sessionId,
      permissionDenials: [],
    });
  });

  it('should parse the shared reference recording', () => {
    const events = parseAll(readFixture('reference-write-file'));
    expect(events.map((event) => event.type)).toEqual([
      'system.init',
      'tool.use',
      'tool.result',
      'assistant.text',
      'result',
    ]);
    expect(only(events, 'system.init')[0]?.data.sessionId).toBe('668a28f2-e4d9-4968-b4da-783d3b78f783');
    expect(only(events, 'tool.use')[0]?.data.input).toEqual({
      file_path: '/workspace/task/hello.txt',
      content: 'hi there\n',
    });
    expect(only(events, 'result')[0]?.data).toMatchObject({
      costUsd: 0.00062,
      usage: { inputTokens: 20, outputTokens: 27, cacheReadTokens: 0, cacheCreationTokens: 0 },
      numTurns: 2,
      durationMs: 233,
      result: 'Done: wrote hello.txt',
    });
  });

  it('should map the Bash tool result text when parsing the bash fixture', () => {
    const events = parseAll(readFixture('bash'));
    expect(only(events, 'tool.use')[0]?.data).toMatchObject({
      name: 'Bash',
      input: { command: expect.stringContaining('echo hangar') },
    });
    expect(only(events, 'tool.result')[0]?.data).toEqual({
      toolUseId: 'toolu_scripted_0_0',
      content: 'hangar',
      isError: false,
    });
  });

  it('should emit api.retry when the CLI reports a retried rate limit', () => {
    const events = parseAll(readFixture('rate-limited'));
    expect(only(events, 'api.retry')).toEqual([
      {
        type: 'api.retry',
        data: { attempt: 1, maxRetries: 10, delayMs: expect.any(Number), status: 429, error: 'rate_limit' },
      },
    ]);
    expect(only(events, 'result')[0]?.data.isError).toBe(false);
  });

  it('should report an error result when the model refused every request', () => {
    const events = parseAll(readFixture('fail'));
    expect(only(events, 'assistant.text')[0]?.data.text).toBe(
      'API Error: 400 scripted failure: this request is refused',
    );
    expect(only(events, 'result')[0]?.data).toMatchObject({
      isError: true,
      costUsd: 0,
      result: 'API Error: 400 scripted failure: this request is refused',
    });
  });

  it('should emit assistant.thinking and keep thinking-token notices as unknown', () => {
    const events = parseAll(readFixture('thinking'));
    expect(only(events, 'assistant.thinking')[0]?.data.text).toBe(
      'The user wants a short answer; the working directory is /tmp/hangar-fixture-thinking/work.',
    );
    const notices = only(events, 'unknown').map((event) => event.data.raw);
    expect(notices).toEqual(
      expect.arrayContaining([expect.objectContaining({ subtype: 'thinking_tokens' })]),
    );
  });

  it.each([[[1]], [[2, 3, 5, 7, 11, 13]], [[4096]], [[17, 1, 1, 250]]])(
    'should yield the same events when the stream arrives in chunks of %j bytes',
    (chunkSizes) => {
      for (const name of ['write-file', 'reference-write-file', 'long-stream']) {
        const input = readFixture(name);
        expect(parseAll(input, chunkSizes)).toEqual(parseAll(input));
      }
    },
  );

  it('should reassemble a UTF-8 character split across chunks', () => {
    const line = Buffer.from(
      `${JSON.stringify({ type: 'result', subtype: 'success', result: 'naïve — ✓ 🚀' })}\n`,
    );
    const split = line.indexOf(Buffer.from('🚀')) + 2;
    const parser = new ClaudeStreamParser();
    const events = [
      ...parser.push(line.subarray(0, split)),
      ...parser.push(line.subarray(split)),
      ...parser.end(),
    ];
    expect(only(events, 'result')[0]?.data.result).toBe('naïve — ✓ 🚀');
  });

  it('should parse a last line that has no trailing newline at end()', () => {
    const parser = new ClaudeStreamParser();
    expect(parser.push('{"type":"system","subtype":"init","session_id":"s1","tools":[]}')).toEqual([]);
    expect(parser.end()).toEqual([
      { type: 'system.init', data: expect.objectContaining({ sessionId: 's1', tools: [] }) },
    ]);
  });
});

describe(parseClaudeLine.name, () => {
  it('should keep a non-JSON line as unknown with the raw text', () => {
    expect(parseClaudeLine('Error: something broke')).toEqual([
      { type: 'unknown', data: { raw: 'Error: something broke' } },
    ]);
  });

  it('should return nothing for a blank line', () => {
    expect(parseClaudeLine('  \r')).toEqual([]);
  });

  it('should emit one event per block when an assistant message has text and tool uses', () => {
    const line = JSON.stringify({
      type: 'assistant',
      message: {
        id: 'msg_1',
        content: [
          { type: 'thinking', thinking: 'plan', signature: 'x' },
          { type: 'text', text: 'Writing two files.' },
          { type: 'tool_use', id: 'toolu_a', name: 'Write', input: { file_path: '/w/a', content: 'a' } },
          { type: 'tool_use', id: 'toolu_b', name: 'Bash', input: { command: 'ls' } },
        ],
      },
    });
    expect(parseClaudeLine(line)).toEqual([
      { type: 'assistant.thinking', data: { text: 'plan', messageId: 'msg_1' } },
      { type: 'assistant.text', data: { text: 'Writing two files.', messageId: 'msg_1' } },
      {
        type: 'tool.use',
        data: {
          toolUseId: 'toolu_a',
          name: 'Write',
          input: { file_path: '/w/a', content: 'a' },
          messageId: 'msg_1',
        },
      },
      {
        type: 'tool.use',
        data: { toolUseId: 'toolu_b', name: 'Bash', input: { command: 'ls' }, messageId: 'msg_1' },
      },
    ]);
  });

  it("should say which subagent's tool call a message came from, its usage once, and what was denied", () => {
    const subagent = JSON.stringify({
      type: 'assistant',
      parent_tool_use_id: 'toolu_task',
      message: {
        id: 'msg_sub',
        usage: {
          input_tokens: 12,
          output_tokens: 3,
          cache_read_input_tokens: 4,
          cache_creation_input_tokens: 5,
        },
        content: [
          { type: 'text', text: 'Looking.' },
          { type: 'tool_use', id: 'toolu_read', name: 'Read', input: { file_path: '/w/a' } },
        ],
      },
    });
    expect(parseClaudeLine(subagent)).toEqual([
      {
        type: 'assistant.text',
        data: {
          text: 'Looking.',
          messageId: 'msg_sub',
          parentToolUseId: 'toolu_task',
          usage: { inputTokens: 12, outputTokens: 3, cacheReadTokens: 4, cacheCreationTokens: 5 },
        },
      },
      {
        type: 'tool.use',
        data: {
          toolUseId: 'toolu_read',
          name: 'Read',
          input: { file_path: '/w/a' },
          messageId: 'msg_sub',
          parentToolUseId: 'toolu_task',
        },
      },
    ]);
    const result = parseClaudeLine(
      JSON.stringify({
        type: 'user',
        parent_tool_use_id: 'toolu_task',
        message: {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_read', content: 'a' }],
        },
      }),
    );
    expect(result).toEqual([
      {
        type: 'tool.result',
        data: { toolUseId: 'toolu_read', content: 'a', isError: false, parentToolUseId: 'toolu_task' },
      },
    ]);
    const [ended] = parseClaudeLine(
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: false,
        result: 'done',
        permission_denials: [
          { tool_name: 'Bash', tool_use_id: 'toolu_b', tool_input: { command: 'rm -rf /' } },
        ],
      }),
    );
    expect(ended).toMatchObject({
      type: 'result',
      data: { permissionDenials: [{ tool: 'Bash', toolUseId: 'toolu_b' }] },
    });
    const [init] = parseClaudeLine(
      JSON.stringify({
        type: 'system',
        subtype: 'init',
        session_id: 's',
        tools: [],
        mcp_servers: [
          { name: 'hangar', status: 'connected' },
          { name: 'broken', status: 'failed' },
        ],
      }),
    );
    expect(init).toMatchObject({
      type: 'system.init',
      data: {
        mcpServers: [
          { name: 'hangar', status: 'connected' },
          { name: 'broken', status: 'failed' },
        ],
      },
    });
  });

  it('should stringify block content and carry is_error when a tool result is a block list', () => {
    const line = JSON.stringify({
      type: 'user',
      message: {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_a',
            is_error: true,
            content: [
              { type: 'text', text: 'first' },
              { type: 'image', source: { type: 'base64', data: 'AA' } },
            ],
          },
        ],
      },
    });
    expect(parseClaudeLine(line)).toEqual([
      {
        type: 'tool.result',
        data: {
          toolUseId: 'toolu_a',
          isError: true,
          content: 'first\n{"type":"image","source":{"type":"base64","data":"AA"}}',
        },
      },
    ]);
  });

  it('should keep an unrecognised block as unknown next to the recognised ones', () => {
    const message = {
      type: 'assistant',
      message: { id: 'm', content: [{ type: 'text', text: 'hi' }, { type: 'server_tool_use' }] },
    };
    expect(parseClaudeLine(JSON.stringify(message))).toEqual([
      { type: 'assistant.text', data: { text: 'hi', messageId: 'm' } },
      { type: 'unknown', data: { raw: message } },
    ]);
  });

  it('should fill nulls and zeros when a result line lacks cost, usage and counts', () => {
    expect(
      parseClaudeLine('{"type":"result","subtype":"error_max_turns","is_error":true,"session_id":"s"}'),
    ).toEqual([
      {
        type: 'result',
        data: {
          subtype: 'error_max_turns',
          isError: true,
          result: null,
          costUsd: null,
          usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
          numTurns: null,
          durationMs: null,
          sessionId: 's',
        },
      },
    ]);
  });

  it('should keep lines of unknown types and system subtypes whole', () => {
    const denied = { type: 'system', subtype: 'permission_denied', tool_name: 'Bash' };
    expect(parseClaudeLine(JSON.stringify(denied))).toEqual([{ type: 'unknown', data: { raw: denied } }]);
    expect(parseClaudeLine('[1,2]')).toEqual([{ type: 'unknown', data: { raw: [1, 2] } }]);
    const init = { type: 'system', subtype: 'init' };
    expect(parseClaudeLine(JSON.stringify(init))).toEqual([{ type: 'unknown', data: { raw: init } }]);
  });
});
