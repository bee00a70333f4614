import { buildCreateTaskRequest } from '../src/commands/create-task-input';

describe(buildCreateTaskRequest.name, () => {
  it('should build the request body from the prompt and flags when they are valid', () => {
    expect(
      buildCreateTaskRequest('write a file', { scenario: 'write-file', profile: 'default', timeout: '30' }),
    ).toEqual({
      ok: true,
      request: { prompt: 'write a file', scenario: 'write-file', profile: 'default', timeoutSeconds: 30 },
    });
  });

  it('should leave out flags that were not given', () => {
    expect(buildCreateTaskRequest('hello', {})).toEqual({ ok: true, request: { prompt: 'hello' } });
  });

  it('should reject an empty prompt with the shared schema message', () => {
    expect(buildCreateTaskRequest('   ', {})).toEqual({ ok: false, errors: ['prompt: must not be empty'] });
  });

  it('should name the flag when the timeout is not a number', () => {
    const result = buildCreateTaskRequest('hello', { timeout: 'soon' });
    expect(result).toEqual({
      ok: false,
      errors: ['--timeout: must be a whole number of seconds — got "soon"'],
    });
  });

  it('should apply the schema range to the timeout when it is out of bounds', () => {
    const result = buildCreateTaskRequest('hello', { timeout: '0' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors[0]).toMatch(/^--timeout: /);
  });

  it('should report every bad field at once when several are wrong', () => {
    const result = buildCreateTaskRequest('', { scenario: 'Not A Name' });
    expect(!result.ok && result.errors).toEqual([
      'prompt: must not be empty',
      '--scenario: must be a scenario name: lowercase letters, digits and dashes',
    ]);
  });

  it('should send each --require as a label the runner must offer, sorted and once', () => {
    expect(buildCreateTaskRequest('hello', { require: ['region=eu', 'gpu', 'gpu'] })).toEqual({
      ok: true,
      request: { prompt: 'hello', requires: ['gpu', 'region=eu'] },
    });
  });

  it('should name the --require that is not a label', () => {
    const result = buildCreateTaskRequest('hello', { require: ['gpu', 'GPU!'] });
    expect(!result.ok && result.errors).toEqual([
      '--require "GPU!": must be a label: a name of lowercase letters, digits, . _ / - (at most 63), optionally =value',
    ]);
  });
});
