import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AgentEvent } from '@hangar/contracts';
import { isProcessAlive, liveGroupMembers, waitFor } from '../../test/support/processes';
import { AgentSpawnFailed, spawnAgent, startWaitingAgent, type SpawnAgentOptions } from './agent-process';
import type { AgentInvocation } from '../agent-invocation';
import { listDescendants } from './process-tree';

// Stand-in agents written in sh: the supervisor must not care what the child is.
function sh(script: string, stdin?: string): AgentInvocation {
  const invocation: AgentInvocation = {
    command: '/bin/sh',
    args: ['-c', script],
    env: { PATH: '/usr/bin:/bin' },
  };
  if (stdin !== undefined) invocation.stdin = stdin;
  return invocation;
}

describe(spawnAgent.name, () => {
  let cwd: string;

  beforeAll(() => {
    cwd = mkdtempSync(path.join(tmpdir(), 'hangar-agent-process-'));
  });

  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  function options(events: AgentEvent[], overrides: Partial<SpawnAgentOptions> = {}): SpawnAgentOptions {
    return { cwd, timeoutMs: 10_000, onEvent: (event) => events.push(event), ...overrides };
  }

  function nextEvent(events: AgentEvent[], matches: (event: AgentEvent) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const push = events.push.bind(events);
      events.push = (...added: AgentEvent[]) => {
        const length = push(...added);
        if (added.some(matches)) resolve();
        return length;
      };
    });
  }

  it('should run the agent, and what it starts, at the niceness asked for', async () => {
    const events: AgentEvent[] = [];
    // Field 19 of /proc/<pid>/stat is the niceness; the child of the agent's shell inherits it.
    const handle = await spawnAgent(
      sh(`cut -d' ' -f19 /proc/self/stat >&2; /bin/sh -c "cut -d' ' -f19 /proc/self/stat >&2"`),
      options(events, { nice: 7 }),
    );
    await handle.done;
    expect(events.filter((event) => event.type === 'stderr')).toEqual([
      { type: 'stderr', data: { line: '7' } },
      { type: 'stderr', data: { line: '7' } },
    ]);
  });

  it('should nice the autogroup of each session the agent makes, where the kernel shares the CPU by session first', async () => {
    const events: AgentEvent[] = [];
    const autogroups = readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
    // Each session waits (up to 2 s) until its autogroup is niced, then says which it is: the
    // agent's own, then one it makes with setsid (as bwrap --new-session does).
    const report = `for i in $(seq 100); do grep -q 'nice 7$' /proc/self/autogroup && break; sleep 0.02; done; cat /proc/self/autogroup >&2`;
    const handle = await spawnAgent(
      sh(`${report}; setsid /bin/sh -c "${report.replace(/"/g, '\\"').replace(/\$/g, '\\$')}"`),
      options(events, { nice: 7, niceSessions: true }),
    );
    await handle.done;
    const lines = events.flatMap((event) => (event.type === 'stderr' ? [event.data.line] : []));
    expect(lines).toHaveLength(2);
    const groups = lines.map((line) => /^(\/autogroup-\d+) nice (\d+)$/.exec(line));
    expect(groups.map((match) => match?.[2])).toEqual(autogroups ? ['7', '7'] : ['0', '0']);
    expect(groups[0]?.[1]).not.toBe(groups[1]?.[1]);
  });

  it('should parse stdout, turn stderr into events and report the exit code when the agent exits', async () => {
    const events: AgentEvent[] = [];
    const stderrLines: string[] = [];
    const handle = await spawnAgent(
      sh(
        `printf '%s\\n' '{"type":"system","subtype":"init","session_id":"s1","tools":[]}'; echo 'warn: careful' >&2; printf 'tail'; exit 3`,
      ),
      options(events, { onStderrLine: (line) => stderrLines.push(line) }),
    );
    expect(handle.pid).toBeGreaterThan(0);
    expect(await handle.done).toEqual({ exitCode: 3, signal: null, reason: 'exited' });
    expect(events).toEqual(
      expect.arrayContaining([
        { type: 'system.init', data: expect.objectContaining({ sessionId: 's1' }) },
        { type: 'stderr', data: { line: 'warn: careful' } },
        { type: 'unknown', data: { raw: 'tail' } },
      ]),
    );
    expect(stderrLines).toEqual(['warn: careful']);
  });

  it('should run in the given cwd with only the given environment', async () => {
    process.env['HANGAR_TEST_SECRET'] = 'do-not-leak';
    const events: AgentEvent[] = [];
    const handle = await spawnAgent(sh('pwd; echo "secret=${HANGAR_TEST_SECRET:-none}"'), options(events));
    await handle.done;
    delete process.env['HANGAR_TEST_SECRET'];
    expect(events).toEqual([
      { type: 'unknown', data: { raw: cwd } },
      { type: 'unknown', data: { raw: 'secret=none' } },
    ]);
  });

  it('should feed stdin when the invocation carries it', async () => {
    const events: AgentEvent[] = [];
    const handle = await spawnAgent(
      sh('cat', '{"type":"result","subtype":"success","result":"from stdin"}\n'),
      options(events),
    );
    await handle.done;
    expect(events).toEqual([{ type: 'result', data: expect.objectContaining({ result: 'from stdin' }) }]);
  });

  it('should kill the process group and report timeout when the agent outlives its time', async () => {
    const handle = await spawnAgent(sh('sleep 30 & sleep 30'), options([], { timeoutMs: 300 }));
    const exit = await handle.done;
    expect(exit).toMatchObject({ reason: 'timeout', signal: 'SIGTERM', exitCode: null });
    expect(liveGroupMembers(handle.pid)).toEqual([]);
  });

  it('should not count the time the run waited for people against its timeout', async () => {
    // The run "waits for an approval" for its first 600 ms: a 400 ms timeout fires at 1 s.
    const startedAt = Date.now();
    let asked = 0;
    const waitedMs = () => {
      asked += 1;
      return Promise.resolve(Math.min(Date.now() - startedAt, 600));
    };
    const handle = await spawnAgent(sh('sleep 30'), options([], { timeoutMs: 400, waitedMs }));
    const exit = await handle.done;
    const ranFor = Date.now() - startedAt;
    expect(exit).toMatchObject({
      reason: 'timeout',
      detail: expect.stringContaining('600 ms waiting for approvals'),
    });
    expect(ranFor).toBeGreaterThanOrEqual(1000);
    expect(asked).toBeGreaterThanOrEqual(2);
  });

  it('should time out as usual when the wait for people cannot be read', async () => {
    const handle = await spawnAgent(
      sh('sleep 30'),
      options([], { timeoutMs: 300, waitedMs: () => Promise.reject(new Error('the task API is down')) }),
    );
    expect(await handle.done).toMatchObject({ reason: 'timeout' });
  });

  it('should SIGKILL after the grace period, including descendants in other sessions, when SIGTERM is ignored', async () => {
    const events: AgentEvent[] = [];
    const started = nextEvent(events, (event) => event.type === 'unknown' && event.data.raw === 'started');
    const handle = await spawnAgent(
      sh(`trap '' TERM; setsid sleep 300 & echo started; wait`),
      options(events, { killGraceMs: 300 }),
    );
    await started;
    await waitFor(
      () => listDescendants(handle.pid).some((member) => member.pgid !== handle.pid),
      5_000,
      'the setsid child to leave the group',
    );
    const escaped = listDescendants(handle.pid);
    const cancelledAt = Date.now();
    handle.cancel('user asked');
    expect(await handle.done).toEqual({
      exitCode: null,
      signal: 'SIGKILL',
      reason: 'cancelled',
      detail: 'user asked',
    });
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(liveGroupMembers(handle.pid)).toEqual([]);
    for (const member of escaped) expect(isProcessAlive(member.pid)).toBe(false);
  });

  it('should stop the agent and report output-limit when it prints too much', async () => {
    const events: AgentEvent[] = [];
    const handle = await spawnAgent(
      sh('yes "{\\"type\\":\\"noise\\"}"'),
      options(events, { maxOutputBytes: 64 * 1024 }),
    );
    const exit = await handle.done;
    expect(exit.reason).toBe('output-limit');
    expect(exit.detail).toContain('65536');
    expect(events.length).toBeLessThanOrEqual((64 * 1024) / '{"type":"noise"}\n'.length);
  });

  it('should kill what the agent left running in its group when it exits', async () => {
    const handle = await spawnAgent(sh('sleep 300 & echo done'), options([]));
    expect((await handle.done).reason).toBe('exited');
    expect(liveGroupMembers(handle.pid)).toEqual([]);
  });

  it('should ignore cancel after the agent has exited', async () => {
    const handle = await spawnAgent(sh('exit 0'), options([]));
    const exit = await handle.done;
    handle.cancel('too late');
    expect(exit).toEqual({ exitCode: 0, signal: null, reason: 'exited' });
  });

  it('should write the invocation files, creating their directories, before the agent starts', async () => {
    const events: AgentEvent[] = [];
    const settings = path.join(cwd, 'home', '.cli', 'settings.json');
    const handle = await spawnAgent(
      { ...sh(`cat '${settings}'`), files: [{ path: settings, content: '{"a":1}\n' }] },
      options(events),
    );
    await handle.done;
    expect(events).toEqual([{ type: 'unknown', data: { raw: { a: 1 } } }]);
    expect(statSync(settings).mode & 0o777).toBe(0o600);
  });

  it('should reject with AgentSpawnFailed for a command that does not exist, niced or not', async () => {
    for (const nice of [0, 10])
      await expect(
        spawnAgent({ command: '/nonexistent/agent', args: [], env: {} }, options([], { nice })),
      ).rejects.toThrow('could not start /nonexistent/agent: spawn /nonexistent/agent ENOENT');
  });

  it('should reject with AgentSpawnFailed when a file cannot be written', async () => {
    const blocker = path.join(cwd, 'not-a-dir');
    writeFileSync(blocker, '');
    await expect(
      spawnAgent(
        { ...sh('true'), files: [{ path: path.join(blocker, 'x.json'), content: '' }] },
        options([]),
      ),
    ).rejects.toBeInstanceOf(AgentSpawnFailed);
  });

  it('should reject with AgentSpawnFailed when the command does not exist', async () => {
    await expect(
      spawnAgent({ command: path.join(cwd, 'no-such-binary'), args: [], env: {} }, options([])),
    ).rejects.toBeInstanceOf(AgentSpawnFailed);
  });

  describe(startWaitingAgent.name, () => {
    it('should hold what the CLI prints while it waits, and give it to the run that begins it, with the input', async () => {
      // Prints before reading (as a CLI's start-up warnings would), then echoes its input as a result.
      const waiting = await startWaitingAgent(
        sh(
          'echo warming >&2; read line; printf \'{"type":"result","subtype":"success","result":"%s"}\\n\' "$line"',
        ),
        { cwd },
      );
      expect(waiting.isWaiting()).toBe(true);
      const events: AgentEvent[] = [];
      const stderr: string[] = [];
      const handle = waiting.begin(
        'the prompt\n',
        options(events, { onStderrLine: (line) => stderr.push(line) }),
      );
      expect(waiting.isWaiting()).toBe(false);
      expect(await handle.done).toEqual({ exitCode: 0, signal: null, reason: 'exited' });
      // (Printed before the input was read: held if it came before `begin`, delivered either way.)
      expect(events).toHaveLength(2);
      expect(events).toEqual(
        expect.arrayContaining([
          { type: 'stderr', data: { line: 'warming' } },
          { type: 'result', data: expect.objectContaining({ result: 'the prompt' }) },
        ]),
      );
      expect(stderr).toEqual(['warming']);
      expect(() => waiting.begin('again\n', options([]))).toThrow('a waiting agent runs once');
    });

    it("should start the run's timeout when it begins, not when the CLI started", async () => {
      const waiting = await startWaitingAgent(sh('read line; sleep 30'), { cwd, killGraceMs: 100 });
      const began = Date.now();
      const handle = waiting.begin('go\n', options([], { timeoutMs: 300 }));
      const exit = await handle.done;
      expect(exit.reason).toBe('timeout');
      expect(Date.now() - began).toBeGreaterThanOrEqual(300);
    });

    it('should stop the waiting CLI and everything it started when discarded', async () => {
      const waiting = await startWaitingAgent(sh('sleep 30 & read line'), { cwd, killGraceMs: 100 });
      await waitFor(() => listDescendants(waiting.pid).length > 0, 5000, 'the background sleep');
      const children = listDescendants(waiting.pid);
      const exit = await waiting.discard('recycled');
      expect(exit.reason).toBe('cancelled');
      expect(isProcessAlive(waiting.pid)).toBe(false);
      expect(children.every((child) => !isProcessAlive(child.pid))).toBe(true);
      expect(waiting.isWaiting()).toBe(false);
      expect(() => waiting.begin('late\n', options([]))).toThrow('a waiting agent runs once');
    });

    it('should stop a waiting CLI that keeps printing, rather than hold or drop its lines', async () => {
      const waiting = await startWaitingAgent(sh('while :; do echo noise >&2; done'), {
        cwd,
        killGraceMs: 100,
      });
      expect((await waiting.gone).reason).toBe('cancelled');
      expect(waiting.isWaiting()).toBe(false);
    });

    it('should be up only once its readyFd says so, not at its start', async () => {
      // Says up after a marker file exists (as a sandbox says it once its mounts are made).
      const marker = path.join(cwd, 'made');
      const waiting = await startWaitingAgent(
        {
          ...sh(
            `while [ ! -f ${marker} ]; do sleep 0.02; done; echo up >&3; exec 3>&-; read line; echo "$line" >&2`,
          ),
          readyFd: 3,
        },
        { cwd },
      );
      let up = false;
      void waiting.ready.then(() => (up = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(up).toBe(false);
      writeFileSync(marker, '');
      await waiting.ready;
      const stderr: string[] = [];
      const handle = waiting.begin('go\n', options([], { onStderrLine: (line) => stderr.push(line) }));
      expect((await handle.done).exitCode).toBe(0);
      expect(stderr).toEqual(['go']);
    });

    it('should not be up when it exits before its readyFd says so, saying what it printed', async () => {
      const waiting = await startWaitingAgent(
        { ...sh('echo "bwrap: Can\'t find source path /gone" >&2; exit 1'), readyFd: 3 },
        { cwd },
      );
      await expect(waiting.ready).rejects.toThrow(
        "it exited (1) before it was up: bwrap: Can't find source path /gone",
      );
      expect(waiting.isWaiting()).toBe(false);
    });

    it('should stop one whose readyFd does not say up in time, saying so', async () => {
      const waiting = await startWaitingAgent(
        { ...sh('sleep 30; echo up >&3; read line'), readyFd: 3 },
        { cwd, killGraceMs: 100, readyWithinMs: 200 },
      );
      await expect(waiting.ready).rejects.toThrow('it was not up within 200 ms');
      expect((await waiting.gone).reason).toBe('cancelled');
      expect(isProcessAlive(waiting.pid)).toBe(false);
    });

    it('should be up at once without a readyFd', async () => {
      const waiting = await startWaitingAgent(sh('read line'), { cwd, killGraceMs: 100 });
      await waiting.ready;
      expect(waiting.isWaiting()).toBe(true);
      await waiting.discard('done');
    });

    it('should say it no longer waits once the CLI has exited by itself', async () => {
      const waiting = await startWaitingAgent(sh('exit 3'), { cwd });
      expect((await waiting.gone).exitCode).toBe(3);
      expect(waiting.isWaiting()).toBe(false);
    });
  });
});
