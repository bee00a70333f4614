import type { WorkflowCondition, WorkflowDefinition, WorkflowStep } from '@hangar/contracts';
import { handlebars, schemaProblem, TEMPLATE_HELPERS } from './run-context';

// One problem of a definition, at the path of what causes it (problem+json's `errors[]`).
export interface WorkflowProblem {
  path: (string | number)[];
  message: string;
}

// A step where it stands: its path in the definition, and the loop it is in (if any).
interface Placed {
  step: WorkflowStep;
  path: (string | number)[];
  loop: string | undefined;
}

// What a template or condition of one place may read.
interface Scope {
  // Steps whose results exist when this place is evaluated.
  done: Set<string>;
  // Inside a loop: the loop's own steps (loop.previous.<id>).
  loopSteps: Set<string> | undefined;
  // A fan-out step's prompt: `item`.
  item: boolean;
}

// Everything only the whole definition can tell, each problem with the path of its cause:
// ids used twice, dependencies on nothing or across a loop's edge, cycles (with the cycle's
// path), templates and conditions naming inputs or steps that are not there or not done yet,
// fields a step's output schema does not have, fan-outs over what is not a list. Empty: valid.
export function validateWorkflow(definition: WorkflowDefinition): WorkflowProblem[] {
  const problems: WorkflowProblem[] = [];
  const placed = placeSteps(definition, problems);
  const byId = new Map(placed.map((entry) => [entry.step.id, entry]));

  const topLevel = definition.steps.map((step, index) => ({ step, path: ['steps', index] }));
  checkNeeds(topLevel, undefined, byId, problems);
  const topAncestors = ancestorsOf(topLevel);
  for (const [index, step] of definition.steps.entries()) {
    if (step.type !== 'loop') continue;
    const inner = step.steps.map((child, childIndex) => ({
      step: child,
      path: ['steps', index, 'steps', childIndex],
    }));
    checkNeeds(inner, step.id, byId, problems);
  }

  const context = { definition, byId, problems };
  const scopes = new Map<string, Scope>();
  for (const entry of placed) {
    const scope = scopeOf(entry, definition, topAncestors);
    scopes.set(entry.step.id, scope);
    checkStep(entry, scope, context);
  }
  checkSharedWorkspaces(placed, scopes, problems);
  // The run's outputs are rendered once every step is done.
  const everything: Scope = { done: new Set(byId.keys()), loopSteps: undefined, item: false };
  for (const [name, template] of Object.entries(definition.outputs))
    checkTemplate(template, ['outputs', name], everything, context);
  return problems;
}

// Steps working in one folder (`sameAs`, followed to the step that made it) must run one after
// another: two agents writing one workspace at once would mix their changes (and a runner
// refuses the second).
function checkSharedWorkspaces(placed: Placed[], scopes: Map<string, Scope>, problems: WorkflowProblem[]) {
  const byId = new Map(placed.map((entry) => [entry.step.id, entry]));
  const ownerOf = (id: string, seen = new Set<string>()): string => {
    const step = byId.get(id)?.step;
    if (step?.type !== 'agent' || !('sameAs' in step.workspace) || seen.has(id)) return id;
    seen.add(id);
    return ownerOf(step.workspace.sameAs, seen);
  };
  const sharing = new Map<string, Placed[]>();
  for (const entry of placed) {
    const step = entry.step;
    if (step.type !== 'agent') continue;
    // A sameAs that is not a dependency at all is refused already, by checkStep.
    if ('sameAs' in step.workspace && !scopes.get(step.id)?.done.has(step.workspace.sameAs)) continue;
    const owner = ownerOf(step.id);
    sharing.set(owner, [...(sharing.get(owner) ?? []), entry]);
  }
  for (const group of sharing.values()) {
    for (const [index, later] of group.entries()) {
      for (const earlier of group.slice(0, index)) {
        if (earlier.step.id === later.step.id) continue; // an id used twice is refused already
        const ordered =
          scopes.get(later.step.id)?.done.has(earlier.step.id) ||
          scopes.get(earlier.step.id)?.done.has(later.step.id);
        if (!ordered)
          problems.push({
            path: [...later.path, 'workspace'],
            message: `shares a workspace with "${earlier.step.id}" but may run at the same time: make one need the other`,
          });
      }
    }
  }
}

function placeSteps(definition: WorkflowDefinition, problems: WorkflowProblem[]): Placed[] {
  const placed: Placed[] = [];
  const seen = new Set<string>();
  const place = (step: WorkflowStep, path: (string | number)[], loop: string | undefined) => {
    if (seen.has(step.id)) problems.push({ path: [...path, 'id'], message: `"${step.id}" is used twice` });
    seen.add(step.id);
    placed.push({ step, path, loop });
  };
  definition.steps.forEach((step, index) => {
    place(step, ['steps', index], undefined);
    if (step.type === 'loop')
      step.steps.forEach((child, childIndex) => place(child, ['steps', index, 'steps', childIndex], step.id));
  });
  return placed;
}

// `needs` name steps of the same level: top-level steps, or the steps of the same loop (what
// comes before a loop is reached through the loop's own `needs`). No cycles.
function checkNeeds(
  level: { step: WorkflowStep; path: (string | number)[] }[],
  loop: string | undefined,
  byId: Map<string, Placed>,
  problems: WorkflowProblem[],
) {
  const ids = new Set(level.map(({ step }) => step.id));
  for (const { step, path } of level) {
    step.needs.forEach((need, index) => {
      if (ids.has(need)) return;
      const elsewhere = byId.get(need);
      const message = !elsewhere
        ? `names no step: "${need}"`
        : elsewhere.loop && elsewhere.loop !== loop
          ? `names "${need}", a step inside loop "${elsewhere.loop}": depend on the loop instead`
          : `names "${need}", which is outside loop "${loop}": the loop's own needs reach it`;
      problems.push({ path: [...path, 'needs', index], message });
    });
  }
  const cycle = findCycle(level);
  if (cycle) {
    const at = level.find(({ step }) => step.id === cycle[0])!;
    problems.push({ path: [...at.path, 'needs'], message: `makes a cycle: ${cycle.join(' → ')}` });
  }
}

function findCycle(level: { step: WorkflowStep }[]): string[] | undefined {
  const needs = new Map(level.map(({ step }) => [step.id, step.needs]));
  const state = new Map<string, 'visiting' | 'done'>();
  const trail: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done' || !needs.has(id)) return undefined;
    if (state.get(id) === 'visiting') return [...trail.slice(trail.indexOf(id)), id];
    state.set(id, 'visiting');
    trail.push(id);
    for (const need of needs.get(id) ?? []) {
      const found = visit(need);
      if (found) return found;
    }
    trail.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of needs.keys()) {
    const found = visit(id);
    if (found) return found;
  }
  return undefined;
}

// Each step's transitive dependencies, within one level.
function ancestorsOf(level: { step: WorkflowStep }[]): Map<string, Set<string>> {
  const needs = new Map(level.map(({ step }) => [step.id, step.needs]));
  const result = new Map<string, Set<string>>();
  const collect = (id: string, into: Set<string>, seen: Set<string>) => {
    for (const need of needs.get(id) ?? []) {
      if (seen.has(need)) continue;
      seen.add(need);
      into.add(need);
      collect(need, into, seen);
    }
  };
  for (const id of needs.keys()) {
    const into = new Set<string>();
    collect(id, into, new Set([id]));
    result.set(id, into);
  }
  return result;
}

// What is done when a step starts: its ancestors (a loop's ancestors count for its steps, and a
// loop done means its steps are), and, inside a loop, the ancestors among its siblings.
function scopeOf(entry: Placed, definition: WorkflowDefinition, top: Map<string, Set<string>>): Scope {
  const done = new Set<string>();
  const addTop = (ids: Set<string> | undefined) => {
    for (const id of ids ?? []) {
      done.add(id);
      const step = definition.steps.find((candidate) => candidate.id === id);
      if (step?.type === 'loop') for (const child of step.steps) done.add(child.id);
    }
  };
  if (!entry.loop) {
    addTop(top.get(entry.step.id));
    return { done, loopSteps: undefined, item: entry.step.type === 'agent' && !!entry.step.forEach };
  }
  const loop = definition.steps.find((step) => step.id === entry.loop);
  addTop(top.get(entry.loop));
  const siblings = loop?.type === 'loop' ? loop.steps : [];
  for (const id of ancestorsOf(siblings.map((step) => ({ step }))).get(entry.step.id) ?? []) done.add(id);
  return {
    done,
    loopSteps: new Set(siblings.map((step) => step.id)),
    item: entry.step.type === 'agent' && !!entry.step.forEach,
  };
}

interface Context {
  definition: WorkflowDefinition;
  byId: Map<string, Placed>;
  problems: WorkflowProblem[];
}

function checkStep(entry: Placed, scope: Scope, context: Context) {
  const { step, path } = entry;
  if (step.when) checkCondition(step.when, [...path, 'when'], { ...scope, item: false }, context);
  if (step.type === 'agent') {
    checkTemplate(step.prompt, [...path, 'prompt'], scope, context);
    if (step.workspace && 'sameAs' in step.workspace && !scope.done.has(step.workspace.sameAs))
      context.problems.push({
        path: [...path, 'workspace', 'sameAs'],
        message: `"${step.workspace.sameAs}" is not among this step's dependencies: it needs that step done first`,
      });
    if (step.output) {
      const problem = schemaProblem(step.output.schema);
      if (problem)
        context.problems.push({
          path: [...path, 'output', 'schema'],
          message: `is not a usable JSON Schema: ${problem}`,
        });
    }
    if (step.forEach && 'sameAs' in step.workspace)
      context.problems.push({
        path: [...path, 'workspace', 'sameAs'],
        message: 'a forEach step cannot share one workspace: its items would write it at the same time',
      });
    if ('sameAs' in step.workspace) {
      const shared = context.byId.get(step.workspace.sameAs)?.step;
      if (shared?.type !== 'agent' || shared.forEach)
        context.problems.push({
          path: [...path, 'workspace', 'sameAs'],
          message: `"${step.workspace.sameAs}" is not an agent step with one workspace of its own`,
        });
    }
    if (step.forEach) {
      const itemsPath = [...path, 'forEach', 'items'];
      const noItem = { ...scope, item: false };
      if (checkReference(step.forEach.items, itemsPath, noItem, context))
        checkIsList(step.forEach.items, itemsPath, context);
    }
  } else if (step.type === 'approval') {
    checkTemplate(step.message, [...path, 'message'], scope, context);
  } else {
    // `until` is evaluated after an iteration: the loop's steps are done, as are its ancestors.
    const afterIteration: Scope = {
      done: new Set([...scope.done, ...step.steps.map((child) => child.id)]),
      loopSteps: new Set(step.steps.map((child) => child.id)),
      item: false,
    };
    checkCondition(step.until, [...path, 'until'], afterIteration, context);
  }
}

function checkCondition(
  condition: WorkflowCondition,
  path: (string | number)[],
  scope: Scope,
  context: Context,
): void {
  if ('all' in condition)
    condition.all.forEach((part, index) => checkCondition(part, [...path, 'all', index], scope, context));
  else if ('any' in condition)
    condition.any.forEach((part, index) => checkCondition(part, [...path, 'any', index], scope, context));
  else if ('not' in condition) checkCondition(condition.not, [...path, 'not'], scope, context);
  else checkReference(condition.path, [...path, 'path'], scope, context);
}

function checkTemplate(template: string, path: (string | number)[], scope: Scope, context: Context): void {
  let references: string[];
  try {
    references = templateRootPaths(template).filter(
      (reference) => !(TEMPLATE_HELPERS as readonly string[]).includes(reference),
    );
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    context.problems.push({ path, message: `is not a valid template: ${message}` });
    return;
  }
  for (const reference of new Set(references))
    checkReference(reference, path, scope, context, ` (in {{${reference}}})`);
}

// A dotted path read by a template or condition. True when it names something that exists.
function checkReference(
  reference: string,
  path: (string | number)[],
  scope: Scope,
  context: Context,
  where = '',
): boolean {
  const fail = (message: string): false => {
    context.problems.push({ path, message: `${message}${where}` });
    return false;
  };
  const [root, name, field, ...rest] = reference.split('.');
  if (root === 'inputs') {
    if (!name) return fail('names inputs without saying which');
    if (!Object.hasOwn(context.definition.inputs, name))
      return fail(`names inputs.${name}, which the workflow does not declare`);
    return true;
  }
  if (root === 'item') return scope.item || fail('names item, which only a forEach step has');
  if (root === 'loop') {
    if (!scope.loopSteps) return fail(`names ${reference}, but this step is not inside a loop`);
    if (name === 'iteration' && field === undefined) return true;
    if (name !== 'previous' || !field)
      return fail(`names ${reference}: a loop offers loop.iteration and loop.previous.<step>.output`);
    if (!scope.loopSteps.has(field)) return fail(`names ${reference}: "${field}" is not a step of this loop`);
    return checkStepField(field, rest, reference, fail, context);
  }
  if (root === 'steps') {
    if (!name) return fail('names steps without saying which');
    if (!context.byId.has(name)) return fail(`names ${reference}: there is no step "${name}"`);
    if (!scope.done.has(name))
      return fail(
        `names ${reference}, but "${name}" is not among this step's dependencies (add it to needs)`,
      );
    return checkStepField(name, field === undefined ? [] : [field, ...rest], reference, fail, context);
  }
  return fail(`names ${reference}: templates and conditions read inputs, steps, loop and item`);
}

// `steps.<id>.status`, `steps.<id>.output` (its text, or its structured output's fields), and an
// agent step's `steps.<id>.check` (exitCode, passed, output) when it has one.
function checkStepField(
  id: string,
  segments: string[],
  reference: string,
  fail: (message: string) => false,
  context: Context,
): boolean {
  const [field, ...rest] = segments;
  // The step itself ({status, output}; null in a loop's first iteration for loop.previous).
  if (field === undefined) return true;
  if (field === 'status') return rest.length === 0 || fail(`names ${reference}: a status has no fields`);
  const step = context.byId.get(id)?.step;
  if (field === 'check') {
    if (step?.type !== 'agent' || !step.check)
      return fail(`names ${reference}, but "${id}" has no check (give it check.command)`);
    if (rest.length === 0 || (rest.length === 1 && CHECK_RESULT.includes(rest[0]!))) return true;
    return fail(`names ${reference}: a check has ${CHECK_RESULT.join(', ')}`);
  }
  if (field !== 'output') return fail(`names ${reference}: a step offers status, output and check`);
  if (rest.length === 0) return true;
  // A loop's output says how many iterations it ran; an approval's, who answered and how.
  const fixed = step?.type === 'loop' ? LOOP_OUTPUT : step?.type === 'approval' ? APPROVAL_OUTPUT : undefined;
  if (fixed) {
    if (rest.length === 1 && fixed.includes(rest[0]!)) return true;
    return fail(`names ${reference}: the output of ${step!.type} "${id}" has ${fixed.join(', ')}`);
  }
  const schema = outputSchemaOf(id, context);
  if (!schema)
    return fail(`names ${reference}, but "${id}" has no structured output (give it output.schema)`);
  let current: JsonSchema | undefined = schema;
  for (const [index, segment] of rest.entries()) {
    const next = propertyOf(current, segment);
    if (!next)
      return fail(
        `names ${reference}, but "${id}"'s output has no field ${['output', ...rest.slice(0, index + 1)].join('.')}`,
      );
    current = next;
  }
  return true;
}

function checkIsList(reference: string, path: (string | number)[], context: Context): void {
  const [root, id, field, ...rest] = reference.split('.');
  const fail = (message: string) => context.problems.push({ path, message });
  if (root === 'inputs' && id && field === undefined) {
    const type = context.definition.inputs[id]?.type;
    if (type !== 'array') fail(`is not a list: ${reference} has type ${type ?? 'unknown'}`);
    return;
  }
  if (root !== 'steps' || !id || field !== 'output' || rest.length === 0)
    return void fail(
      `is not a list: ${reference} (name a list field of an earlier step's output, or an array input)`,
    );
  let current: JsonSchema | undefined = outputSchemaOf(id, context);
  for (const segment of rest) current = propertyOf(current, segment);
  if (current?.type !== 'array')
    fail(
      `is not a list: ${reference} has type ${typeof current?.type === 'string' ? current.type : 'unknown'}`,
    );
}

const LOOP_OUTPUT = ['iterations'];
const CHECK_RESULT = ['exitCode', 'passed', 'output'];
const APPROVAL_OUTPUT = ['message', 'approved', 'by', 'comment'];

type JsonSchema = { type?: unknown; properties?: Record<string, JsonSchema>; items?: JsonSchema };

function outputSchemaOf(id: string, context: Context): JsonSchema | undefined {
  const step = context.byId.get(id)?.step;
  return step?.type === 'agent' ? step.output?.schema : undefined;
}

// A field of an object schema, or (a number) an item of an array schema.
function propertyOf(schema: JsonSchema | undefined, segment: string): JsonSchema | undefined {
  if (!schema) return undefined;
  if (schema.type === 'array' && /^\d+$/.test(segment)) return schema.items;
  const properties = schema.properties;
  return properties && Object.hasOwn(properties, segment) ? properties[segment] : undefined;
}

// The paths a Handlebars template reads from its root (inside each/with blocks the context
// changes: only the blocks' parameters are read from the root). Throws on a template that does
// not parse. The webhook prompt templates use it too.
export function templateRootPaths(template: string): string[] {
  const paths: string[] = [];
  const visitor = new (handlebars().Visitor)();
  let depth = 0;
  visitor.PathExpression = (expression: hbs.AST.PathExpression) => {
    if (depth === 0 && expression.depth === 0 && !expression.data && expression.parts.length > 0)
      paths.push(expression.parts.join('.'));
  };
  const visitBlock = visitor.BlockStatement.bind(visitor);
  visitor.BlockStatement = (block: hbs.AST.BlockStatement) => {
    const helper = block.path.type === 'PathExpression' ? block.path.original : '';
    if (helper === 'each' || helper === 'with') {
      for (const param of block.params) visitor.accept(param);
      depth += 1;
      if (block.program) visitor.accept(block.program);
      if (block.inverse) visitor.accept(block.inverse);
      depth -= 1;
      return;
    }
    visitBlock(block);
  };
  visitor.accept(handlebars().parse(template));
  // Helper names (if, unless, each, with, lookup, log) are not values.
  return paths.filter((found) => !['if', 'unless', 'each', 'with', 'lookup', 'log'].includes(found));
}
