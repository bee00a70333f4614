import { renderToStaticMarkup } from 'react-dom/server';
import { DiffView, parseUnifiedDiff } from '../app/components/diff-view';
import { WaitingNote } from '../app/components/bits';
import { Transcript } from '../app/components/transcript';
import { appendEvents } from '../app/lib/transcript-entries';

describe('the transcript', () => {
  it('should join a tool result to its call and keep one entry per shown event', () => {
    const entries = appendEvents(
      [],
      [
        { seq: 1, at: '', type: 'task.status', data: { status: 'RUNNING' } },
        {
          seq: 2,
          at: '',
          type: 'tool.use',
          data: { toolUseId: 't1', name: 'Write', input: { file_path: 'a.txt' } },
        },
        { seq: 3, at: '', type: 'tool.result', data: { toolUseId: 't1', content: 'ok', isError: false } },
        { seq: 4, at: '', type: 'assistant.text', data: { text: 'Wrote **a.txt**' } },
        { seq: 5, at: '', type: 'api.retry', data: { attempt: 1, maxRetries: 3, status: 529 } },
      ],
    );
    expect(entries.map((entry) => [entry.kind, entry.seq])).toEqual([
      ['status', 1],
      ['tool', 2],
      ['text', 4],
      ['retry', 5],
    ]);
    expect(entries[1]).toMatchObject({ name: 'Write', result: 'ok', isError: false });
    expect(entries[3]).toMatchObject({ text: 'API retry 1 of 3 (HTTP 529)' });
  });
});

describe('governance in the task page', () => {
  it("should mark a budget's soft limit in the transcript, naming the budget and what it spent", () => {
    const entries = appendEvents(
      [],
      [
        {
          seq: 7,
          at: '',
          type: 'budget.warning',
          data: {
            budgetId: 'b1',
            label: 'budget b1: project "web" per day ($5)',
            softPercent: 80,
            spentUsd: 4.01,
            limitUsd: 5,
            spentTokens: 1200,
            limitTokens: null,
          },
        },
      ],
    );
    expect(entries).toEqual([
      {
        kind: 'warning',
        seq: 7,
        text: 'budget b1: project "web" per day ($5): 80% of its limit reached ($4.0100, 1200 tokens spent)',
      },
    ]);
    const html = renderToStaticMarkup(<Transcript entries={entries} live={false} />);
    expect(html).toContain('data-kind="warning"');
    expect(html).toContain('80% of its limit reached');
  });

  it('should say why a QUEUED task waits for its provider, and nothing when it does not', () => {
    expect(
      renderToStaticMarkup(
        <WaitingNote waiting={{ reason: 'provider-quota', until: '2026-12-05T16:00:07.000Z' }} />,
      ),
    ).toContain('Waiting for provider quota until');
    expect(renderToStaticMarkup(<WaitingNote waiting={null} />)).toBe('');
  });
});

describe('the diff view', () => {
  const unifiedDiff = [
    'diff --git a/src/app.ts b/src/app.ts',
    'index 1..2 100644',
    '--- a/src/app.ts',
    '+++ b/src/app.ts',
    '@@ -1,2 +1,2 @@',
    ' const a = 1;',
    "-const b = 'old';",
    "+const b = 'new';",
  ].join('\n');

  it('should split a unified diff into files and typed lines', () => {
    expect(parseUnifiedDiff(unifiedDiff)).toEqual([
      {
        path: 'src/app.ts',
        lines: [
          { kind: 'hunk', text: '@@ -1,2 +1,2 @@' },
          { kind: 'ctx', text: 'const a = 1;' },
          { kind: 'del', text: "const b = 'old';" },
          { kind: 'add', text: "const b = 'new';" },
        ],
      },
    ]);
  });

  it('should highlight the code of a known language and escape it', () => {
    const html = renderToStaticMarkup(
      <DiffView
        diff={{
          taskId: 't',
          unifiedDiff: unifiedDiff.replace("'new'", "'<b>'"),
          truncated: false,
          files: [{ path: 'src/app.ts', status: 'modified', additions: 1, deletions: 1 }],
          linesAdded: 1,
          linesRemoved: 1,
          commit: null,
        }}
      />,
    );
    expect(html).toContain('<span class="hljs-keyword">const</span>');
    expect(html).toContain('&lt;b&gt;');
    expect(html).not.toContain('<b>');
  });
});
