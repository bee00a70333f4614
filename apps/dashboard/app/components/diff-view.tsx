'use client';

import type { TaskDiff } from '@hangar/contracts';
import hljs from 'highlight.js/lib/common';

// A task's diff: the files it touched, then each file's hunks, lines coloured by what they do
// and highlighted by the file's language.
interface FileDiff {
  path: string;
  lines: { kind: 'add' | 'del' | 'ctx' | 'hunk'; text: string }[];
}

export function parseUnifiedDiff(diff: string): FileDiff[] {
  const files: FileDiff[] = [];
  let current: FileDiff | undefined;
  for (const line of diff.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const match = / b\/(.+)$/.exec(line);
      current = { path: match?.[1] ?? line, lines: [] };
      files.push(current);
    } else if (
      !current ||
      line.startsWith('+++ ') ||
      line.startsWith('--- ') ||
      /^(index|new file|deleted file|similarity|rename|old mode|new mode) /.test(line)
    ) {
      continue;
    } else if (line.startsWith('@@')) current.lines.push({ kind: 'hunk', text: line });
    else if (line.startsWith('+')) current.lines.push({ kind: 'add', text: line.slice(1) });
    else if (line.startsWith('-')) current.lines.push({ kind: 'del', text: line.slice(1) });
    else if (line.startsWith(' ')) current.lines.push({ kind: 'ctx', text: line.slice(1) });
  }
  return files;
}

function languageOf(path: string): string | undefined {
  const extension = path.split('.').pop()?.toLowerCase() ?? '';
  const known: Record<string, string> = {
    ts: 'typescript',
    tsx: 'typescript',
    js: 'javascript',
    mjs: 'javascript',
    py: 'python',
    rb: 'ruby',
    go: 'go',
    rs: 'rust',
    java: 'java',
    json: 'json',
    md: 'markdown',
    sh: 'bash',
    yml: 'yaml',
    yaml: 'yaml',
    css: 'css',
    html: 'xml',
    sql: 'sql',
  };
  const language = known[extension];
  return language && hljs.getLanguage(language) ? language : undefined;
}

function Highlighted({ text, language }: { text: string; language: string | undefined }) {
  if (!language) return <>{text}</>;
  // highlight.js escapes the source it is given; its output is only its own spans around it.
  return (
    <span
      dangerouslySetInnerHTML={{ __html: hljs.highlight(text, { language, ignoreIllegals: true }).value }}
    />
  );
}

export function DiffView({ diff }: { diff: TaskDiff }) {
  const files = parseUnifiedDiff(diff.unifiedDiff);
  return (
    <section className="panel" aria-labelledby="diff-title">
      <h2 id="diff-title">
        Changes{' '}
        <span className="muted">
          (+{diff.linesAdded} −{diff.linesRemoved})
        </span>
      </h2>
      <ul aria-label="Changed files">
        {diff.files.map((file) => (
          <li key={file.path}>
            <a href={`#file-${encodeURIComponent(file.path)}`}>{file.path}</a>{' '}
            <span className="muted">{file.status}</span>{' '}
            <span style={{ color: 'var(--ok)' }}>+{file.additions}</span>{' '}
            <span style={{ color: 'var(--danger)' }}>−{file.deletions}</span>
          </li>
        ))}
      </ul>
      {diff.truncated && <p className="muted">The diff is longer than the part kept; it is cut short.</p>}
      {files.map((file) => {
        const language = languageOf(file.path);
        return (
          <div key={file.path} id={`file-${encodeURIComponent(file.path)}`} className="table-wrap">
            <h3 style={{ fontSize: '0.95rem' }}>
              <code>{file.path}</code>
            </h3>
            <table className="diff-table" aria-label={`Diff of ${file.path}`}>
              <tbody>
                {file.lines.map((line, index) => (
                  <tr key={index} className={line.kind}>
                    <td aria-hidden="true">{line.kind === 'add' ? '+' : line.kind === 'del' ? '−' : ' '}</td>
                    <td>
                      {line.kind === 'hunk' ? (
                        line.text
                      ) : (
                        <Highlighted text={line.text} language={language} />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
    </section>
  );
}
