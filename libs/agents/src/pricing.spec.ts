import { readCallRequest } from './pricing';

// What a billed call's request tells before it is made: its model, its input at most its bytes,
// and the output it allows — read the way each provider's API takes it.
describe(readCallRequest.name, () => {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));

  it("reads an Anthropic message's model and max_tokens", () => {
    const body = json({
      model: 'claude-opus-5-5',
      max_tokens: 128000,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(readCallRequest('claude', '/v1/messages', body)).toEqual({
      model: 'claude-opus-5-5',
      inputTokensBound: body.length,
      maxOutputTokens: 128000,
    });
  });

  it("reads an OpenAI response's max_output_tokens, and says nothing when it is not given", () => {
    expect(
      readCallRequest('codex', '/responses', json({ model: 'gpt-6.1-sol', max_output_tokens: 900 })),
    ).toMatchObject({ model: 'gpt-6.1-sol', maxOutputTokens: 900 });
    expect(readCallRequest('codex', '/responses', json({ model: 'gpt-6.1-sol', input: 'x' }))).toMatchObject({
      maxOutputTokens: null,
    });
  });

  it("reads a Gemini call's model from its path and its generationConfig.maxOutputTokens", () => {
    const body = json({ contents: [], generationConfig: { maxOutputTokens: 65536 } });
    expect(readCallRequest('gemini', '/v1beta/models/gemini-3.8-flash:streamGenerateContent', body)).toEqual({
      model: 'gemini-3.8-flash',
      inputTokensBound: body.length,
      maxOutputTokens: 65536,
    });
  });

  it('bounds a request that is not JSON, or names nothing, by its size alone', () => {
    expect(readCallRequest('claude', '/v1/messages', Buffer.from('not json'))).toEqual({
      model: null,
      inputTokensBound: 8,
      maxOutputTokens: null,
    });
    expect(readCallRequest('claude', '/v1/messages', json({ model: 7, max_tokens: -1 }))).toMatchObject({
      model: null,
      maxOutputTokens: null,
    });
  });
});
