import { z } from 'zod';

// Only the parts of a Messages API request the scripted model looks at; the rest passes.
const ContentBlockSchema = z.looseObject({ type: z.string(), text: z.unknown().optional() });
const MessageSchema = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(ContentBlockSchema)]),
});

export const MessagesRequestSchema = z.looseObject({
  model: z.string().default('claude-scripted'),
  messages: z.array(MessageSchema),
  system: z.union([z.string(), z.array(ContentBlockSchema)]).optional(),
  tools: z.array(z.unknown()).optional(),
  stream: z.boolean().optional(),
});
export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;

// The step is how many assistant turns the conversation already holds: stateless, so a
// retried request or a `--resume`d session lands on the right step.
export function stepIndex(request: MessagesRequest): number {
  return request.messages.filter((message) => message.role === 'assistant').length;
}

// The CLI's main agent loop always offers tools; titles, summaries and other side calls do not.
export function isMainLoopRequest(request: MessagesRequest): boolean {
  return (request.tools?.length ?? 0) > 0;
}

// Claude Code 2.1.330 sends "Primary working directory: <cwd>" in a system-role entry of
// `messages` (older releases put "Working directory: <cwd>" in `system`), so look everywhere.
const CWD_LINE = /^\s*(?:-\s*)?(?:Primary working directory|Working directory):\s*(\S.*?)\s*$/m;

export function extractCwd(request: MessagesRequest): string | undefined {
  for (const text of requestTexts(request)) {
    const match = CWD_LINE.exec(text);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

function requestTexts(request: MessagesRequest): string[] {
  const texts: string[] = [];
  const collect = (content: MessagesRequest['system']): void => {
    if (typeof content === 'string') texts.push(content);
    else for (const block of content ?? []) if (typeof block.text === 'string') texts.push(block.text);
  };
  collect(request.system);
  for (const message of request.messages) collect(message.content);
  return texts;
}

function contentTexts(content: MessagesRequest['messages'][number]['content']): string[] {
  if (typeof content === 'string') return [content];
  return content.flatMap((block) =>
    block.type === 'text' && typeof block.text === 'string' ? [block.text] : [],
  );
}

// Tool results travel in user messages too, but as tool_result blocks: only text blocks count.
export function userTexts(request: MessagesRequest): string[] {
  return request.messages
    .filter((message) => message.role === 'user')
    .flatMap((message) => contentTexts(message.content));
}

// The first turn's user text (Claude Code sends the prompt with its reminders as one message).
export function promptText(request: MessagesRequest): string {
  const firstReply = request.messages.findIndex((message) => message.role === 'assistant');
  return request.messages
    .slice(0, firstReply === -1 ? undefined : firstReply)
    .filter((message) => message.role === 'user')
    .flatMap((message) => contentTexts(message.content))
    .join('\n');
}

export function lastAssistantText(request: MessagesRequest): string | undefined {
  for (const message of [...request.messages].reverse()) {
    if (message.role !== 'assistant') continue;
    const texts = contentTexts(message.content);
    if (texts.length > 0) return texts.join('\n');
  }
  return undefined;
}

// The text of the most recent tool result the conversation carries (a tool_result block's
// content, a string or text blocks): a scenario can answer with what a tool returned.
export function lastToolResultText(request: MessagesRequest): string | undefined {
  for (const message of [...request.messages].reverse()) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const block of [...message.content].reverse()) {
      if (block.type !== 'tool_result') continue;
      const content = (block as { content?: unknown }).content;
      if (typeof content === 'string') return content;
      if (Array.isArray(content))
        return content
          .flatMap((part: unknown) =>
            typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string'
              ? [(part as { text: string }).text]
              : [],
          )
          .join('\n');
    }
  }
  return undefined;
}
