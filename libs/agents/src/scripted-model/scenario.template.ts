export const TEMPLATE_VARIABLES = [
  'cwd',
  'runKey',
  'scenario',
  'step',
  'sessionId',
  // The text of the most recent model reply in the conversation the request carries: a resumed
  // session proves it sent its history by having the model quote it.
  'history.lastAssistantText',
  // The text of the most recent tool result (Claude Code): a scenario answers with what a tool
  // returned (a manager summarising its children's results).
  'history.lastToolResultText',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Partial<Record<TemplateVariable, string>>;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z.]*)\s*\}\}/g;

function isTemplateVariable(name: string): name is TemplateVariable {
  return (TEMPLATE_VARIABLES as readonly string[]).includes(name);
}

export function renderString(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    if (!isTemplateVariable(name)) {
      throw new TemplateError(
        `unknown template variable {{${name}}} (known: ${TEMPLATE_VARIABLES.join(', ')})`,
      );
    }
    const value = values[name];
    if (value === undefined)
      throw new TemplateError(`template variable {{${name}}} has no value for this request`);
    return value;
  });
}

// Renders every string inside a JSON value (tool inputs are arbitrary JSON).
export function renderTemplate<T>(value: T, values: TemplateValues): T {
  return renderValue(value, values) as T;
}

function renderValue(value: unknown, values: TemplateValues): unknown {
  if (typeof value === 'string') return renderString(value, values);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, values));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, values)]));
  }
  return value;
}
