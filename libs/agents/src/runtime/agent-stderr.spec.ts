import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AgentEvent } from '@hangar/contracts';
import { spawnAgent } from './agent-process';

describe('the stderr of an agent', () => {
  let cwd: string;

  beforeAll(() => {
    cwd = mkdtempSync(path.join(tmpdir(), 'hangar-agent-stderr-'));
  });

  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('should keep a line over the event cap as one truncated event with its size, and the lines around it whole', async () => {
    const size = 8 * 1024 * 1024;
    const events: AgentEvent[] = [];
    const tail: string[] = [];
    // A real process writing 8 MiB on one stderr line, in whatever reads the pipe gives.
    const script = `process.stderr.write('before\\r\\n' + 'e'.repeat(${size}) + '\\nafter ✓');`;
    const handle = await spawnAgent(
      { command: process.execPath, args: ['-e', script], env: {} },
      {
        cwd,
        timeoutMs: 30_000,
        maxEventBytes: 64 * 1024,
        onEvent: (event) => events.push(event),
        onStderrLine: (line) => tail.push(line),
      },
    );
    expect((await handle.done).exitCode).toBe(0);
    expect(events).toEqual([
      { type: 'stderr', data: { line: 'before' } },
      { type: 'output.truncated', data: { stream: 'stderr', bytes: size, head: 'e'.repeat(64 * 1024) } },
      { type: 'stderr', data: { line: 'after ✓' } },
    ]);
    expect(tail.map((line) => line.length)).toEqual([6, 64 * 1024, 7]);
  });
});
