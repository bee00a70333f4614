import {
  RunnerCancelMessageSchema,
  TaskCreatedMessageSchema,
  TaskEndedJobSchema,
  TaskJobSchema,
} from './messages';
import { StartChildTaskMessageSchema } from './delegation';
import { TRACESTATE_MAX_LENGTH, TraceContextSchema, traceIdOf } from './trace';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('TraceContextSchema', () => {
  it('should accept a W3C traceparent with or without a tracestate', () => {
    expect(TraceContextSchema.parse({ traceparent: TRACEPARENT })).toEqual({ traceparent: TRACEPARENT });
    expect(TraceContextSchema.parse({ traceparent: TRACEPARENT, tracestate: 'vendor=abc,other=1' })).toEqual({
      traceparent: TRACEPARENT,
      tracestate: 'vendor=abc,other=1',
    });
  });

  it.each([
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['an all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['another version', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['uppercase hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
    ['a short trace id', '00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01'],
    ['a missing flags byte', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7'],
    ['trailing text', `${TRACEPARENT}-extra`],
    ['no traceparent at all', ''],
  ])('should refuse %s', (_case, traceparent) => {
    expect(TraceContextSchema.safeParse({ traceparent }).success).toBe(false);
  });

  it('should refuse a tracestate longer than the specification asks to propagate', () => {
    const tracestate = `v=${'a'.repeat(TRACESTATE_MAX_LENGTH)}`;
    expect(TraceContextSchema.safeParse({ traceparent: TRACEPARENT, tracestate }).success).toBe(false);
  });

  it('should name the trace id of a traceparent', () => {
    expect(traceIdOf({ traceparent: TRACEPARENT })).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});

describe('withTrace (the envelope of every message and job)', () => {
  it('should carry a valid trace on every message and job schema', () => {
    const trace = { traceparent: TRACEPARENT, tracestate: 'vendor=abc' };
    expect(TaskCreatedMessageSchema.parse({ taskId: 't1', trace }).trace).toEqual(trace);
    expect(RunnerCancelMessageSchema.parse({ taskId: 't1', trace }).trace).toEqual(trace);
    expect(TaskJobSchema.parse({ taskId: 't1', attempt: 1, trace }).trace).toEqual(trace);
    expect(TaskEndedJobSchema.parse({ quotaBack: 'claude', trace })).toEqual({ quotaBack: 'claude', trace });
    expect(
      StartChildTaskMessageSchema.parse({
        parentTaskId: 'p1',
        attempt: 1,
        childId: 'c1',
        request: { prompt: 'x' },
        trace,
      }).trace,
    ).toEqual(trace);
  });

  it('should drop a malformed trace and keep the message, so its receiver starts a new trace', () => {
    const parsed = TaskJobSchema.parse({
      taskId: 't1',
      attempt: 2,
      trace: { traceparent: '00-not-a-trace-01' },
    });
    expect(parsed).toEqual({ taskId: 't1', attempt: 2 });
    expect(TaskCreatedMessageSchema.parse({ taskId: 't1', trace: 'garbage' })).toEqual({ taskId: 't1' });
  });

  it('should still refuse a message whose own fields are wrong', () => {
    expect(
      TaskJobSchema.safeParse({ taskId: 't1', attempt: 0, trace: { traceparent: TRACEPARENT } }).success,
    ).toBe(false);
  });
});
