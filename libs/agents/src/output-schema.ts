// A JSON Schema the agent's final answer must match (a workflow step's structured output). Claude
// Code and Codex take it as an option; a CLI without one is asked in the prompt.
export type OutputSchema = Readonly<Record<string, unknown>>;

export function promptWithOutputSchema(prompt: string, schema: OutputSchema): string {
  return [
    prompt,
    '',
    '---',
    'When you are done, answer with only a JSON object that matches the JSON Schema below: no text before or after it, and no Markdown code fence.',
    '',
    JSON.stringify(schema, null, 2),
  ].join('\n');
}
