import { type AgentEvent, type AgentEventOf, AgentEventSchema } from '@hangar/contracts';
import { readFixture } from '../../test/support/fixtures';
import { summarizeResult } from '../runtime/agent-result';
import { GeminiStreamParser } from './gemini-stream.parser';

function parseAll(input: Buffer | string, chunkSizes: number[] = []): AgentEvent[] {
  const parser = new GeminiStreamParser();
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

const fixture = (name: string): AgentEvent[] => parseAll(readFixture(name, 'gemini'));

// Fixtures: the real Gemini CLI 0.61.0 (`--output-format stream-json`) against the scripted model.
describe(GeminiStreamParser.name, () => {
  it('should turn a shell scenario into init, tool use and result, the reply and the usage', () => {
    const events = fixture('shell');
    expect(events.map((event) => event.type)).toEqual([
      'system.init',
      'unknown',
      'tool.use',
      'tool.result',
      'assistant.text',
      'result',
    ]);
    const init = only(events, 'system.init')[0]?.data;
    expect(init).toEqual({ sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/), model: 'auto', tools: [] });
    const toolUse = only(events, 'tool.use')[0]?.data;
    expect(toolUse).toMatchObject({
      name: 'run_shell_command',
      input: { command: 'echo hangar > gemini-output.txt && cat gemini-output.txt' },
    });
    expect(only(events, 'tool.result')[0]?.data).toEqual({
      toolUseId: toolUse?.toolUseId,
      content: 'hangar',
      isError: false,
    });
    // Two scenario steps (100 in / 20 out each) plus the CLI's model-router call (10 / 2).
    expect(only(events, 'result')[0]?.data).toEqual({
      subtype: 'success',
      isError: false,
      result: 'Ran the command: gemini-output.txt says hangar.',
      costUsd: null,
      usage: { inputTokens: 210, outputTokens: 42, cacheReadTokens: 0, cacheCreationTokens: 0 },
      numTurns: null,
      durationMs: expect.any(Number),
      sessionId: init?.sessionId,
    });
    for (const event of events) expect(AgentEventSchema.parse(event)).toEqual(event);
  });

  it('should report a failed tool call with its error message and the recovery when the scenario is tool-error', () => {
    const events = fixture('tool-error');
    expect(only(events, 'tool.use').map((event) => event.data.name)).toEqual(['read_file', 'write_file']);
    expect(only(events, 'tool.result').map((event) => event.data)).toEqual([
      expect.objectContaining({
        isError: true,
        content: 'File not found: /tmp/hangar-fixture-gemini-tool-error/work/missing.txt',
      }),
      expect.objectContaining({ isError: false, content: '' }),
    ]);
    expect(summarizeResult(events).result).toBe('missing.txt did not exist, so I created it.');
  });

  it('should join streamed deltas into one assistant text, then keep the loop-detection warning', () => {
    const raw = readFixture('long-stream', 'gemini').toString('utf8');
    const deltas = raw
      .split('\n')
      .filter((line) => line.includes('"role":"assistant"'))
      .map((line) => (JSON.parse(line) as { content: string }).content);
    expect(deltas.length).toBeGreaterThan(50);
    const events = fixture('long-stream');
    // The CLI's loop detection stops a reply this repetitive: the recording keeps that, as it happened.
    expect(events.map((event) => event.type)).toEqual([
      'system.init',
      'unknown',
      'assistant.text',
      'unknown',
      'result',
    ]);
    expect(only(events, 'assistant.text')[0]?.data.text).toBe(deltas.join(''));
    expect(only(events, 'unknown')[1]?.data.raw).toMatchObject({
      message: 'Loop detected, stopping execution',
    });
    expect(summarizeResult(events)).toMatchObject({ result: deltas.join(''), isError: false });
  });

  it('should report an API error as an error result', () => {
    expect(summarizeResult(fixture('fail'))).toMatchObject({
      isError: true,
      result: expect.stringContaining('scripted failure: this request is refused'),
      costUsd: null,
    });
  });

  it.each([[[1]], [[2, 3, 5, 7]], [[4096]]])(
    'should yield the same events in chunks of %j bytes',
    (sizes) => {
      for (const name of ['shell', 'tool-error', 'long-stream', 'reply']) {
        const input = readFixture(name, 'gemini');
        expect(parseAll(input, sizes)).toEqual(parseAll(input));
      }
    },
  );

  it('should count cached tokens apart from input and keep warnings and non-JSON lines in order', () => {
    const lines = [
      { type: 'message', role: 'assistant', content: 'Hel', delta: true },
      { type: 'error', severity: 'warning', message: 'Loop detected' },
      { type: 'message', role: 'assistant', content: 'lo', delta: true },
      { type: 'result', status: 'success', stats: { input_tokens: 900, cached: 400, output_tokens: 30 } },
    ].map((line) => JSON.stringify(line));
    expect(parseAll([...lines.slice(0, 3), 'not json', lines[3]].join('\n'))).toEqual([
      { type: 'assistant.text', data: { text: 'Hel' } },
      { type: 'unknown', data: { raw: { type: 'error', severity: 'warning', message: 'Loop detected' } } },
      { type: 'assistant.text', data: { text: 'lo' } },
      { type: 'unknown', data: { raw: 'not json' } },
      {
        type: 'result',
        data: expect.objectContaining({
          result: 'Hello',
          usage: { inputTokens: 500, outputTokens: 30, cacheReadTokens: 400, cacheCreationTokens: 0 },
        }),
      },
    ]);
  });

  it('should flush a reply that the stream ends without a result', () => {
    expect(parseAll('{"type":"message","role":"assistant","content":"cut off","delta":true}')).toEqual([
      { type: 'assistant.text', data: { text: 'cut off' } },
    ]);
  });
});
