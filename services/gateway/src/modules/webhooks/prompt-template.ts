import { HangarError } from '@hangar/contracts';
import { handlebars, templateRootPaths } from '@hangar/workflows';

// Handlebars in strict mode: `{{issue.title}}` of a payload without it is an error naming the
// variable, never a silent blank. No HTML escaping (prompts and comments are plain text), only
// the built-in helpers, and Handlebars' own guard against prototype properties.
const OPTIONS: CompileOptions = { strict: true, noEscape: true, knownHelpersOnly: true };

const compiled = new Map<string, HandlebarsTemplateDelegate>();

function compile(template: string): HandlebarsTemplateDelegate {
  let delegate = compiled.get(template);
  if (!delegate) {
    delegate = handlebars().compile(template, OPTIONS);
    if (compiled.size > 500) compiled.clear();
    compiled.set(template, delegate);
  }
  return delegate;
}

// Throws INVALID_TEMPLATE with Handlebars' reason; `field` names where the template came from.
export function checkTemplate(template: string, field: string): void {
  try {
    handlebars().precompile(template, OPTIONS);
  } catch (error) {
    throw new HangarError('INVALID_TEMPLATE', `${field}: ${reasonOf(error)}`, { field });
  }
}

export function renderTemplate(template: string, variables: Record<string, unknown>): string {
  // Strict mode checks only the last step of a path (`{{comment.user.login}}` without
  // `comment` fails as a TypeError), so the paths read from the root are checked first, whole.
  const missing = templateRootPaths(template).find((path) => !has(variables, path));
  if (missing)
    throw new HangarError('INVALID_TEMPLATE', `the payload has no ${missing}`, { variable: missing });
  try {
    return compile(template)(variables);
  } catch (error) {
    throw new HangarError('INVALID_TEMPLATE', reasonOf(error));
  }
}

function has(root: unknown, path: string): boolean {
  let current = root;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return false;
    current = (current as Record<string, unknown>)[segment];
  }
  return true;
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Handlebars says `"title" not defined in [object Object] - 1:8`: name the variable plainly.
  const missing = /^"([^"]+)" not defined in/.exec(message);
  if (missing)
    return `the payload has no ${missing[1]} (${message.split(' - ').at(-1) ?? ''})`.replace(' ()', '');
  return message.split('\n')[0] ?? message;
}
