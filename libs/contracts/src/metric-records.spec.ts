import {
  DURATION_BOUNDS_MS,
  failureReason,
  histogramQuantile,
  MetricRecordSchema,
  taskEndedRecord,
} from './metric-records';
import type { Task } from './task';

describe('metric records', () => {
  it('should name a failure by the kind its error starts with, never by its message', () => {
    expect(failureReason('FAILED', 'timeout: no result within 60s; the agent was stopped')).toBe('timeout');
    expect(failureReason('FAILED', 'runner-lost: gone (attempt 2 of 2)')).toBe('runner-lost');
    expect(failureReason('FAILED', 'The agent said: no')).toBe('other');
    expect(failureReason('FAILED', null)).toBe('other');
    expect(failureReason('CANCELLED', 'cancelled: stopped on request')).toBe('cancelled');
    expect(failureReason('COMPLETED', null)).toBeNull();
  });

  it("should make a task's record from the task as the API shows it, and refuse one without its end", () => {
    const task = {
      id: 't1',
      project: 'default',
      profile: 'reviewer',
      status: 'FAILED',
      error: 'exit-code: the agent exited with code 1',
      attempts: 1,
      createdAt: '2026-12-06T10:00:00.000Z',
      startedAt: '2026-12-06T10:00:01.000Z',
      finishedAt: '2026-12-06T10:00:05.000Z',
      costUsd: 0.5,
      usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheCreationTokens: 4 },
      numTurns: 2,
    } satisfies Partial<Task>;
    const record = taskEndedRecord(task);
    expect(MetricRecordSchema.parse(record)).toEqual({
      kind: 'task.ended',
      taskId: 't1',
      project: 'default',
      profile: 'reviewer',
      status: 'FAILED',
      reason: 'exit-code',
      attempts: 1,
      createdAt: task.createdAt,
      startedAt: task.startedAt,
      finishedAt: task.finishedAt,
      costUsd: 0.5,
      inputTokens: 1,
      outputTokens: 2,
      cacheReadTokens: 3,
      cacheCreationTokens: 4,
      numTurns: 2,
    });
    expect(MetricRecordSchema.safeParse(taskEndedRecord({ ...task, finishedAt: null })).success).toBe(false);
    expect(MetricRecordSchema.safeParse({ ...record, status: 'RUNNING' }).success).toBe(false);
    expect(MetricRecordSchema.safeParse({ ...record, extra: 1 }).success).toBe(false);
  });

  it('should read a percentile from a histogram within the bucket that holds it', () => {
    // Bucket 0 is [0, 16), bucket i is [DURATION_BOUNDS_MS[i - 1], DURATION_BOUNDS_MS[i]).
    const at = (bucket: number, count = 1) => [...Array<number>(bucket).fill(0), count];
    const thirty = DURATION_BOUNDS_MS.filter((bound) => bound <= 30_000).length;
    const median = histogramQuantile(at(thirty, 4), 0.5)!;
    expect(median).toBeGreaterThanOrEqual(DURATION_BOUNDS_MS[thirty - 1]!);
    expect(median).toBeLessThan(DURATION_BOUNDS_MS[thirty]!);
    expect(Math.abs(median - 30_000) / 30_000).toBeLessThan(0.2);
    // Half of four in bucket 2: halfway through it.
    expect(histogramQuantile([0, 0, 4], 0.5)).toBe(21);
    expect(histogramQuantile([0, 0, 0], 0.5)).toBeNull();
    // Above the last bound: the last bound.
    expect(histogramQuantile(at(DURATION_BOUNDS_MS.length), 0.5)).toBe(DURATION_BOUNDS_MS.at(-1));
  });
});
