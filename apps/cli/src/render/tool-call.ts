// The one argument that says what a tool call does: the file a Write writes, the command a Bash
// runs. Shown as `Write(hello.txt)` when an agent calls it and when the call waits for approval.
// `relative` shortens file paths (to the task's workspace) when the caller knows where it ran.
export function toolCallArgument(
  tool: string,
  input: unknown,
  relative: (file: string | undefined) => string | undefined = (file) => file,
): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const fields = input as Record<string, unknown>;
  const text = (key: string): string | undefined =>
    typeof fields[key] === 'string' ? fields[key] : undefined;
  switch (tool) {
    case 'Read':
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
      return relative(text('file_path'));
    case 'NotebookEdit':
    case 'NotebookRead':
      return relative(text('notebook_path'));
    case 'Bash':
      return text('command');
    case 'Glob':
    case 'Grep':
      return text('pattern');
    case 'LS':
      return relative(text('path'));
    case 'WebFetch':
      return text('url');
    case 'WebSearch':
      return text('query');
    case 'Task':
    case 'Agent':
      return text('description');
    case 'TodoWrite':
      return Array.isArray(fields.todos) ? `${fields.todos.length} todos` : undefined;
    default:
      return Object.values(fields).find((value): value is string => typeof value === 'string');
  }
}
