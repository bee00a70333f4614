import { type AgentEvent, EVENT_TYPES } from '@hangar/contracts';
import { createPalette, PLAIN } from '../src/output/palette';
import { EventRenderer } from '../src/render/event-renderer';
import { formatTaskSummary } from '../src/render/task-summary';

const SAMPLES: Record<AgentEvent['type'], AgentEvent> = {
  'task.status': { type: 'task.status', data: { status: 'RUNNING' } },
  'system.init': {
    type: 'system.init',
    data: { sessionId: 'sess-1', model: 'claude-sonnet', cwd: '/work/ws/task-1', tools: ['Bash', 'Write'] },
  },
  'assistant.text': { type: 'assistant.text', data: { text: 'I will write the file.\nDone.\n' } },
  'assistant.thinking': { type: 'assistant.thinking', data: { text: 'thinking about it' } },
  'tool.use': {
    type: 'tool.use',
    data: {
      toolUseId: 't1',
      name: 'Write',
      input: { file_path: '/work/ws/task-1/hello.txt', content: 'hi' },
    },
  },
  'tool.result': { type: 'tool.result', data: { toolUseId: 't1', content: 'File created', isError: false } },
  'api.retry': {
    type: 'api.retry',
    data: { attempt: 2, maxRetries: 10, delayMs: 1500, status: 429, error: 'rate_limit_error' },
  },
  result: {
    type: 'result',
    data: {
      subtype: 'success',
      isError: false,
      result: 'Done.',
      costUsd: 0.01,
      usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheCreationTokens: 0 },
      numTurns: 2,
      durationMs: 1200,
      sessionId: 'sess-1',
    },
  },
  stderr: { type: 'stderr', data: { line: 'warning: something' } },
  'output.truncated': {
    type: 'output.truncated',
    data: { stream: 'stdout', bytes: 52_428_800, head: '{"type' },
  },
  'budget.warning': {
    type: 'budget.warning',
    data: {
      budgetId: 'b1',
      label: 'budget b1: project "web" per day ($5)',
      softPercent: 80,
      spentUsd: 4.01,
      limitUsd: 5,
      spentTokens: 120_000,
      limitTokens: null,
    },
  },
  'approval.requested': {
    type: 'approval.requested',
    data: {
      approvalId: 'appr-1',
      tool: 'Bash',
      input: { command: 'git push origin main' },
      rule: 'Bash(git push:*)',
      deadline: '2026-01-01T00:15:00.000Z',
    },
  },
  'approval.answered': {
    type: 'approval.answered',
    data: {
      approvalId: 'appr-1',
      tool: 'Bash',
      status: 'ALLOWED',
      decision: 'allow-task',
      by: 'olga@example.com',
      message: null,
      waitedMs: 4200,
    },
  },
  unknown: { type: 'unknown', data: { raw: { type: 'mystery', value: 1 } } },
};

describe(EventRenderer.name, () => {
  it('should render every event type the contracts define without throwing', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    for (const type of EVENT_TYPES) {
      expect(() => renderer.render(SAMPLES[type])).not.toThrow();
    }
  });

  it('should say which budget reached its soft limit, and how far', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    expect(renderer.render(SAMPLES['budget.warning'])).toEqual([
      '⚠ budget b1: project "web" per day ($5): 80% reached ($4.0100 spent, 120,000 tokens)',
    ]);
  });

  it('should say what waits for approval and name the commands that answer it', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    expect(renderer.render(SAMPLES['approval.requested'])).toEqual([
      '◷ Bash waits for approval (Bash(git push:*)) until 2026-01-01T00:15:00.000Z — hangar approvals allow|deny appr-1',
    ]);
    expect(renderer.render(SAMPLES['approval.answered'])).toEqual([
      '✓ Bash allowed for the task by olga@example.com',
    ]);
  });

  it("should show the agent's control characters as escapes, never send them to the terminal", () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    const lines = [
      ...renderer.render({ type: 'assistant.text', data: { text: 'done\u001b[2J\u001b]0;pwned\u0007' } }),
      ...renderer.render({
        type: 'tool.use',
        data: { toolUseId: 't1', name: 'Bash', input: { command: 'rm -rf /tmp/x \u202e# harmless' } },
      }),
      ...renderer.render({ type: 'stderr', data: { line: 'oops\u001b[1A' } }),
    ];
    const unsafe = [...lines.join('\n')].filter((char) => {
      const code = char.codePointAt(0) ?? 0;
      return (code < 0x20 && char !== '\n') || code === 0x7f || char === '\u202e';
    });
    expect(unsafe).toEqual([]);
    expect(lines[0]).toBe('done\\u001b[2J\\u001b]0;pwned\\u0007');
    expect(lines.join('\n')).toContain('\\u202e# harmless');
    expect(lines.join('\n')).toContain('oops\\u001b[1A');
  });

  it('should show a file tool call relative to the workspace when the session announced its cwd', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    renderer.render(SAMPLES['system.init']);
    expect(renderer.render(SAMPLES['tool.use'])).toEqual(['→ Write(hello.txt)']);
  });

  it('should show the absolute path when no cwd is known', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    expect(renderer.render(SAMPLES['tool.use'])).toEqual(['→ Write(/work/ws/task-1/hello.txt)']);
  });

  it('should show the first line of a Bash command and the pattern of a Grep', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    const bash: AgentEvent = {
      type: 'tool.use',
      data: { toolUseId: 'b', name: 'Bash', input: { command: 'ls -la\necho done' } },
    };
    const grep: AgentEvent = {
      type: 'tool.use',
      data: { toolUseId: 'g', name: 'Grep', input: { pattern: 'TODO', path: '.' } },
    };
    expect(renderer.render(bash)).toEqual(['→ Bash(ls -la …)']);
    expect(renderer.render(grep)).toEqual(['→ Grep(TODO)']);
  });

  it('should fall back to the first string argument for a tool it does not know', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    const event: AgentEvent = {
      type: 'tool.use',
      data: { toolUseId: 'm', name: 'mcp__db__query', input: { limit: 3, sql: 'select 1' } },
    };
    expect(renderer.render(event)).toEqual(['→ mcp__db__query(select 1)']);
  });

  it('should fold a long tool result after four lines when it has more', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    const content = Array.from({ length: 10 }, (_, index) => `line ${index + 1}`).join('\n');
    const lines = renderer.render({ type: 'tool.result', data: { toolUseId: 't', content, isError: false } });
    expect(lines).toEqual(['  ⎿ line 1', '    line 2', '    line 3', '    line 4', '    … +6 lines']);
  });

  it('should truncate a very long result line', () => {
    const renderer = new EventRenderer({ palette: PLAIN, maxLineLength: 20 });
    const lines = renderer.render({
      type: 'tool.result',
      data: { toolUseId: 't', content: 'x'.repeat(100), isError: false },
    });
    expect(lines).toEqual([`  ⎿ ${'x'.repeat(19)}…`]);
  });

  it('should paint a failed tool result red when colors are on', () => {
    const renderer = new EventRenderer({ palette: createPalette(true) });
    const [line] = renderer.render({
      type: 'tool.result',
      data: { toolUseId: 't', content: 'permission denied', isError: true },
    });
    expect(line).toBe('\u001b[31m  ⎿ permission denied\u001b[39m');
  });

  it('should say what failed and when the retry comes for an api.retry event', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    expect(renderer.render(SAMPLES['api.retry'])).toEqual([
      '↻ API request failed (429 rate_limit_error) · retry 2/10 · in 1.5s',
    ]);
  });

  it('should keep assistant text line by line without trailing blank lines', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    expect(renderer.render(SAMPLES['assistant.text'])).toEqual(['I will write the file.', 'Done.']);
  });

  it('should say how large a truncated line was and how much of it was kept', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    expect(renderer.render(SAMPLES['output.truncated'])).toEqual([
      'stdout line truncated: 52,428,800 bytes, first 6 kept',
    ]);
  });

  it('should print stderr lines dim and labelled when colors are on', () => {
    const renderer = new EventRenderer({ palette: createPalette(true) });
    expect(renderer.render(SAMPLES.stderr)).toEqual(['\u001b[2mstderr: warning: something\u001b[22m']);
  });

  it('should print nothing for a successful result because the summary follows', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    expect(renderer.render(SAMPLES.result)).toEqual([]);
  });

  it('should name the failure when the result is an error', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    const failed: AgentEvent = {
      type: 'result',
      data: {
        ...(SAMPLES.result.data as Extract<AgentEvent, { type: 'result' }>['data']),
        subtype: 'error_max_turns',
        isError: true,
        result: 'too many turns',
      },
    };
    expect(renderer.render(failed)).toEqual([
      '✗ the agent ended with an error (error_max_turns): too many turns',
    ]);
  });

  it('should leave out a subtype that says nothing when the result is an error', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    const failed: AgentEvent = {
      type: 'result',
      data: {
        ...(SAMPLES.result.data as Extract<AgentEvent, { type: 'result' }>['data']),
        isError: true,
        result: 'API Error: 400',
      },
    };
    expect(renderer.render(failed)).toEqual(['✗ the agent ended with an error: API Error: 400']);
  });

  it('should show a terminal status with its reason', () => {
    const renderer = new EventRenderer({ palette: PLAIN });
    expect(renderer.render({ type: 'task.status', data: { status: 'FAILED', reason: 'timeout' } })).toEqual([
      '● failed (timeout)',
    ]);
  });
});

describe(formatTaskSummary.name, () => {
  it('should list status, cost, tokens, turns and duration when the task has them', () => {
    const lines = formatTaskSummary(
      {
        id: 't1',
        status: 'COMPLETED',
        costUsd: 0.01234,
        usage: { inputTokens: 1234, outputTokens: 56, cacheReadTokens: 100, cacheCreationTokens: 0 },
        numTurns: 3,
        durationMs: 4200,
        error: null,
      },
      PLAIN,
    );
    expect(lines).toEqual([
      'COMPLETED · $0.0123 · 1,234 in / 56 out tokens · cache 100 read / 0 written · 3 turns · 4.2s',
    ]);
  });

  it('should add the error line when the task failed', () => {
    const lines = formatTaskSummary(
      { id: 't2', status: 'FAILED', error: 'exit-code: claude exited with 1' },
      PLAIN,
    );
    expect(lines).toEqual(['FAILED', 'error: exit-code: claude exited with 1']);
  });
});
