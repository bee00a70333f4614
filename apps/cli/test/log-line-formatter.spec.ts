import { PLAIN } from '../src/output/palette';
import { formatLogLine } from '../src/render/log-line-formatter';

describe(formatLogLine.name, () => {
  it('should turn a pino line into level, context, message and extra fields', () => {
    const line = JSON.stringify({
      level: 30,
      time: 1700000000000,
      pid: 1,
      hostname: 'h',
      context: 'TasksService',
      msg: 'task queued',
      taskId: 'abc',
      note: 'two words',
    });
    expect(formatLogLine(line, PLAIN)).toBe('INFO  [TasksService] task queued taskId=abc note="two words"');
  });

  it('should show the message of an error object', () => {
    const line = JSON.stringify({
      level: 50,
      msg: 'boom',
      err: { message: 'db down', stack: 'Error: db down\n at x' },
    });
    expect(formatLogLine(line, PLAIN)).toBe('ERROR boom err="db down"');
  });

  it('should keep a line that is not JSON as it is', () => {
    expect(formatLogLine('Listening on 4005', PLAIN)).toBe('Listening on 4005');
    expect(formatLogLine('{not json', PLAIN)).toBe('{not json');
  });
});
