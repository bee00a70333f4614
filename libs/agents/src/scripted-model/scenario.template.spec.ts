import { renderString, renderTemplate, TemplateError } from './scenario.template';

describe(renderTemplate.name, () => {
  it('should replace variables in every string of a nested value', () => {
    const input = { file_path: '{{cwd}}/a.txt', nested: [{ note: 'run {{ runKey }}' }, 3, null, true] };
    expect(renderTemplate(input, { cwd: '/w', runKey: 'k' })).toEqual({
      file_path: '/w/a.txt',
      nested: [{ note: 'run k' }, 3, null, true],
    });
  });

  it('should throw when a variable is unknown or has no value', () => {
    expect(() => renderString('{{home}}', {})).toThrow(TemplateError);
    expect(() => renderString('{{cwd}}', {})).toThrow(/\{\{cwd\}\} has no value/);
  });

  it('should fill a dotted variable such as history.lastAssistantText', () => {
    expect(
      renderString('I said: "{{ history.lastAssistantText }}"', { 'history.lastAssistantText': 'hi' }),
    ).toBe('I said: "hi"');
    expect(() => renderString('{{history.other}}', {})).toThrow(/unknown template variable/);
  });

  it('should leave text without placeholders alone', () => {
    expect(renderString('a { b } {{ }}', {})).toBe('a { b } {{ }}');
  });
});
