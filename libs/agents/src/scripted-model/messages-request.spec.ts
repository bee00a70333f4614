import {
  extractCwd,
  isMainLoopRequest,
  lastAssistantText,
  lastToolResultText,
  MessagesRequestSchema,
  promptText,
  stepIndex,
  userTexts,
} from './messages-request';

const parse = (body: unknown) => MessagesRequestSchema.parse(body);

describe(extractCwd.name, () => {
  it('should read the primary working directory from a system-role message (Claude Code 2.1.330)', () => {
    const request = parse({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'go' }] },
        {
          role: 'system',
          content: [
            {
              type: 'text',
              text: '# Environment\n - Primary working directory: /tmp/a b/work\n - Platform: linux',
            },
          ],
        },
      ],
    });
    expect(extractCwd(request)).toBe('/tmp/a b/work');
  });

  it('should read an older "Working directory:" line from the system prompt', () => {
    const request = parse({ system: '<env>\nWorking directory: /repo\n</env>', messages: [] });
    expect(extractCwd(request)).toBe('/repo');
  });

  it('should return undefined when no working directory is mentioned', () => {
    expect(
      extractCwd(
        parse({ system: [{ type: 'text', text: 'hi' }], messages: [{ role: 'user', content: 'x' }] }),
      ),
    ).toBeUndefined();
  });
});

describe(stepIndex.name, () => {
  it('should count assistant turns already in the conversation', () => {
    const request = parse({
      tools: [{}],
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'text', text: 'a' }] },
        { role: 'user', content: [{ type: 'tool_result' }] },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ],
    });
    expect(stepIndex(request)).toBe(2);
    expect(isMainLoopRequest(request)).toBe(true);
    expect(isMainLoopRequest(parse({ messages: [] }))).toBe(false);
  });
});

describe(userTexts.name, () => {
  it('should collect the text the user wrote, leaving out tool results and assistant turns', () => {
    const request = parse({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>ctx</system-reminder>' },
            { type: 'text', text: 'go [scenario: bash]' },
          ],
        },
        { role: 'assistant', content: 'The secret word is PAPAYA.' },
        { role: 'user', content: [{ type: 'tool_result', content: '[scenario: fail]' }] },
        { role: 'assistant', content: [{ type: 'tool_use' }] },
        { role: 'user', content: 'again' },
      ],
    });
    expect(userTexts(request)).toEqual([
      '<system-reminder>ctx</system-reminder>',
      'go [scenario: bash]',
      'again',
    ]);
    // The most recent reply with text, skipping one that only used a tool.
    expect(lastAssistantText(request)).toBe('The secret word is PAPAYA.');
    expect(lastAssistantText(parse({ messages: [{ role: 'user', content: 'x' }] }))).toBeUndefined();
  });
});

describe(promptText.name, () => {
  it("should join the user's texts before the first reply, leaving out later turns and tool results", () => {
    const request = parse({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>ctx</system-reminder>' },
            { type: 'text', text: 'Review the code' },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use' }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', content: 'Plan' },
            { type: 'text', text: 'Plan' },
          ],
        },
      ],
    });
    expect(promptText(request)).toBe('<system-reminder>ctx</system-reminder>\nReview the code');
    expect(promptText(parse({ messages: [{ role: 'user', content: 'just this' }] }))).toBe('just this');
  });
});

describe(lastToolResultText.name, () => {
  it('should answer the most recent tool result, as a string or its text blocks', () => {
    const request = parse({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'tool_use' }] },
        { role: 'user', content: [{ type: 'tool_result', content: 'first' }] },
        { role: 'assistant', content: [{ type: 'tool_use' }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              content: [
                { type: 'text', text: 'child one: done' },
                { type: 'text', text: 'child two: done' },
              ],
            },
          ],
        },
      ],
    });
    expect(lastToolResultText(request)).toBe('child one: done\nchild two: done');
  });

  it('should answer undefined when no tool has answered yet', () => {
    expect(lastToolResultText(parse({ messages: [{ role: 'user', content: 'x' }] }))).toBeUndefined();
  });
});
