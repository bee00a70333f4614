import type { AgentEvent } from '@hangar/contracts';
import { ClaudeStreamParser } from './claude/claude-stream.parser';
import { CodexStreamParser } from './codex/codex-stream.parser';
import { GeminiStreamParser } from './gemini/gemini-stream.parser';

const CHUNK = 64 * 1024;
const MIB = 1024 * 1024;

// A pipe's reads: `input` in chunks of `size` bytes.
function feed(
  parser: { push(chunk: Buffer): AgentEvent[]; end(): AgentEvent[] },
  input: Buffer,
  size: number,
) {
  const events: AgentEvent[] = [];
  for (let offset = 0; offset < input.length; offset += size) {
    events.push(...parser.push(input.subarray(offset, offset + size)));
  }
  events.push(...parser.end());
  return events;
}

const init = JSON.stringify({ type: 'system', subtype: 'init', session_id: 's1', tools: [] });

describe('JsonLinesParser', () => {
  it('should keep NUL an agent printed, escaped in JSON or raw, as U+FFFD', () => {
    const answer = JSON.stringify({
      type: 'assistant',
      message: { content: [{ type: 'text', text: 'a\u0000b' }] },
    });
    const input = Buffer.concat([Buffer.from(`${answer}\nnot json \u0000 here\n`)]);
    const events = feed(new ClaudeStreamParser(), input, 7);
    expect(events).toEqual([
      { type: 'assistant.text', data: { text: 'a\uFFFDb' } },
      { type: 'unknown', data: { raw: 'not json \uFFFD here' } },
    ]);
  });

  it('should parse a 50 MB line fed in 64 KiB chunks in linear time and keep it as one truncated event', () => {
    const size = 50 * MIB;
    // One assistant message whose text is the whole line, then a normal line after it.
    const prefix = '{"type":"assistant","message":{"content":[{"type":"text","text":"';
    const huge = Buffer.alloc(size, 'x');
    huge.write(prefix, 0, 'utf8');
    huge.write('"}]}}', size - 5, 'utf8');
    const input = Buffer.concat([huge, Buffer.from(`\n${init}\n`)]);

    const started = process.hrtime.bigint();
    const events = feed(new ClaudeStreamParser(), input, CHUNK);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;

    expect(events.map((event) => event.type)).toEqual(['output.truncated', 'system.init']);
    const truncated = events[0] as Extract<AgentEvent, { type: 'output.truncated' }>;
    expect(truncated.data.stream).toBe('stdout');
    expect(truncated.data.bytes).toBe(size);
    // Only the first MiB (the default cap) is kept.
    expect(Buffer.byteLength(truncated.data.head)).toBe(MIB);
    expect(truncated.data.head.startsWith(prefix)).toBe(true);
    // Re-splitting the whole buffer on every chunk took over a minute here; one pass takes
    // well under a second. The bound leaves room for a busy CI machine.
    expect(elapsedMs).toBeLessThan(5_000);
  });

  it('should honour a smaller cap and keep lines under it whole', () => {
    const text = 'é'.repeat(100); // 200 bytes of two-byte characters
    const small = JSON.stringify({ type: 'result', subtype: 'success', result: 'ok' });
    const big = JSON.stringify({ type: 'result', subtype: 'success', result: text });
    const parser = new ClaudeStreamParser({ maxEventBytes: 151 });
    const events = feed(parser, Buffer.from(`${small}\n${big}\n`), 7);
    expect(events[0]).toMatchObject({ type: 'result', data: { result: 'ok' } });
    expect(events[1]).toEqual({
      type: 'output.truncated',
      // A cut inside a two-byte character leaves that character out, never half of it.
      data: { stream: 'stdout', bytes: Buffer.byteLength(big), head: expect.any(String) },
    });
    const head = (events[1] as Extract<AgentEvent, { type: 'output.truncated' }>).data.head;
    expect(Buffer.byteLength(head)).toBeLessThanOrEqual(151);
    expect(head).not.toContain('\ufffd');
    expect(big.startsWith(head)).toBe(true);
    expect(events).toHaveLength(2);
  });

  it.each([
    ['claude', () => new ClaudeStreamParser()],
    ['codex', () => new CodexStreamParser()],
    ['gemini', () => new GeminiStreamParser()],
  ])(
    'should parse the same events whatever the chunking, across UTF-8 characters and CRLF (%s)',
    (_name, make) => {
      const lines = [
        init,
        JSON.stringify({ type: 'result', subtype: 'success', result: 'naïve — ✓ 🚀' }),
        'not json 🚀',
      ];
      const input = Buffer.from(`${lines.join('\r\n')}\n`);
      const whole = feed(make(), input, input.length);
      expect(whole.length).toBeGreaterThan(0);
      for (const size of [1, 2, 3, 5, 64]) expect(feed(make(), input, size)).toEqual(whole);
    },
  );
});
