import { WebhookCommandSchema, type WebhookCommandInput } from '@hangar/contracts';
import { builtinCommands } from '../src/modules/webhooks/builtin-commands';
import { matchCommand, valuesAt } from '../src/modules/webhooks/command-matcher';
import type { InboundEvent } from '../src/modules/webhooks/inbound-event';
import { checkTemplate, renderTemplate } from '../src/modules/webhooks/prompt-template';

const command = (input: Partial<WebhookCommandInput> & Pick<WebhookCommandInput, 'name' | 'trigger'>) =>
  WebhookCommandSchema.parse({ action: { type: 'create_task', template: '{{hangar.args}}' }, ...input });

const event = (overrides: Partial<InboundEvent> = {}): InboundEvent => ({
  provider: 'github',
  event: 'issue_comment.created',
  labelsAdded: [],
  payload: {
    issue: { title: 'Broken', number: 7, labels: [{ name: 'bug' }, { name: 'p1' }] },
    comment: { body: 'x' },
  },
  ...overrides,
});

describe('matchCommand', () => {
  it('should pick the command named by the word after the prefix, or one of its aliases', () => {
    const commands = [
      command({ name: 'review', trigger: { type: 'mention' } }),
      command({ name: 'fix', aliases: ['repair'], trigger: { type: 'mention' } }),
    ];
    const fix = matchCommand(commands, event({ mention: { word: 'repair', args: 'the login' } }), 'd1');
    expect(fix.matched?.command.name).toBe('fix');
    expect(fix.matched?.variables.hangar).toMatchObject({
      command: 'fix',
      word: 'repair',
      args: 'the login',
    });
    const none = matchCommand(commands, event({ mention: { word: 'deploy', args: '' } }), 'd1');
    expect(none).toEqual({
      matched: null,
      reason: expect.stringContaining('no command is called "deploy"') as unknown,
    });
  });

  it('should let a catch-all take the whole text when no named command matches', () => {
    const commands = [
      command({ name: 'review', trigger: { type: 'mention' } }),
      command({ name: '*', trigger: { type: 'mention' } }),
    ];
    const result = matchCommand(commands, event({ mention: { word: 'please', args: 'fix this' } }), 'd1');
    expect(result.matched?.variables.hangar).toMatchObject({ command: '*', args: 'please fix this' });
  });

  it('should only apply a command to the events it lists, by name or name.action', () => {
    const commands = [command({ name: '*', events: ['issues.opened'], trigger: { type: 'mention' } })];
    expect(matchCommand(commands, event({ mention: { word: 'a', args: '' } }), 'd').matched).toBeNull();
    const listed = [command({ name: '*', events: ['issue_comment'], trigger: { type: 'mention' } })];
    expect(matchCommand(listed, event({ mention: { word: 'a', args: '' } }), 'd').matched).not.toBeNull();
  });

  it('should fire label, status and slash triggers, case-insensitively', () => {
    const commands = [
      command({ name: 'triage', trigger: { type: 'label', label: 'Hangar' } }),
      command({ name: 'work', trigger: { type: 'status', status: 'Ready for Hangar' } }),
      command({ name: 'hangar', trigger: { type: 'slash' } }),
    ];
    expect(matchCommand(commands, event({ labelsAdded: ['hangar'] }), 'd').matched?.command.name).toBe(
      'triage',
    );
    expect(matchCommand(commands, event({ statusTo: 'ready for hangar' }), 'd').matched?.command.name).toBe(
      'work',
    );
    const slash = matchCommand(commands, event({ slash: { command: 'hangar', args: 'deploy it' } }), 'd');
    expect(slash.matched?.variables.hangar).toMatchObject({ args: 'deploy it' });
    expect(matchCommand(commands, event({ labelsAdded: ['bug'] }), 'd')).toMatchObject({
      matched: null,
      reason: expect.stringContaining('no command for label bug') as unknown,
    });
  });

  it('should check every condition on the payload and say which one failed', () => {
    const commands = [
      command({
        name: 'bugs',
        trigger: { type: 'event' },
        conditions: [
          { path: 'issue.labels.*.name', op: 'contains', value: 'bug' },
          { path: 'issue.number', op: 'in', value: [7, 8] },
          { path: 'issue.title', op: 'matches', value: '^Bro' },
          { path: 'issue.assignee', op: 'missing' },
        ],
      }),
    ];
    expect(matchCommand(commands, event(), 'd').matched?.command.name).toBe('bugs');
    const other = event({ payload: { issue: { title: 'Broken', number: 9, labels: [] } } });
    const result = matchCommand(commands, other, 'd');
    expect(result.matched).toBeNull();
    expect(!result.matched && result.reason).toContain('issue.labels.*.name contains "bug"');
  });
});

describe('the built-in approval commands', () => {
  it('should answer "@hangar approve|approve-all|deny" before the catch-all starts a task', () => {
    const commands = builtinCommands('github', { profile: 'default' }).map((input) =>
      WebhookCommandSchema.parse(input),
    );
    const matched = (word: string, args: string) =>
      matchCommand(commands, event({ mention: { word, args } }), 'd1');
    expect(matched('approve', 'cm1')).toMatchObject({
      matched: { command: { name: 'approve', action: { type: 'answer_approval', decision: 'allow-once' } } },
    });
    expect(matched('approve-all', '')).toMatchObject({
      matched: { command: { action: { type: 'answer_approval', decision: 'allow-task' } } },
    });
    expect(matched('deny', 'cm1 not today')).toMatchObject({
      matched: {
        command: { action: { type: 'answer_approval', decision: 'deny' } },
        variables: { hangar: { args: 'cm1 not today' } },
      },
    });
    expect(matched('fix', 'the tests')).toMatchObject({
      matched: { command: { name: '*', action: { type: 'create_task' } } },
    });
  });
});

describe('valuesAt', () => {
  it('should read dotted paths, map * over arrays, and never reach the prototype', () => {
    const payload = { a: { b: [{ c: 1 }, { c: 2 }] } };
    expect(valuesAt(payload, 'a.b.*.c')).toEqual([1, 2]);
    expect(valuesAt(payload, 'a.missing')).toEqual([]);
    expect(valuesAt(payload, 'a.constructor')).toEqual([]);
    expect(valuesAt(payload, '__proto__')).toEqual([]);
  });
});

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('it did not throw');
}

describe('renderTemplate', () => {
  const variables = { issue: { title: 'Broken <b>', body: null }, hangar: { args: 'now' } };

  it('should fill variables without HTML escaping', () => {
    expect(renderTemplate('Fix "{{issue.title}}" {{hangar.args}}', variables)).toBe('Fix "Broken <b>" now');
  });

  it('should refuse a missing variable, naming it, instead of leaving a blank', () => {
    expect(
      thrown(() => renderTemplate('{{issue.title}} by {{comment.user.login}}', variables)),
    ).toMatchObject({
      code: 'INVALID_TEMPLATE',
      message: 'the payload has no comment.user.login',
    });
  });

  it('should take block helpers as helpers, checking only the fields they read', () => {
    expect(
      renderTemplate(
        '{{#if issue.title}}Fix {{issue.title}}{{else}}nothing{{/if}}{{#each issue.labels}}{{this}}{{/each}}',
        {
          issue: { title: 'Broken', labels: ['bug'] },
        },
      ),
    ).toBe('Fix Brokenbug');
    expect(thrown(() => renderTemplate('{{#if issue.state}}x{{/if}}', variables))).toMatchObject({
      code: 'INVALID_TEMPLATE',
      message: 'the payload has no issue.state',
    });
  });

  it('should take a null field as present and empty', () => {
    expect(renderTemplate('[{{issue.body}}]', variables)).toBe('[]');
  });

  it('should refuse templates that do not parse, or call helpers that do not exist', () => {
    expect(thrown(() => checkTemplate('{{#if x}}unclosed', 'commands.0.action.template'))).toMatchObject({
      code: 'INVALID_TEMPLATE',
      details: { field: 'commands.0.action.template' },
    });
    expect(
      thrown(() => checkTemplate('{{lookup issue "title"}} {{shout issue.title}}', 'template')),
    ).toMatchObject({
      code: 'INVALID_TEMPLATE',
    });
  });
});

describe('the start_workflow action', () => {
  it('should take a workflow name and input templates, and refuse what cannot name either', () => {
    expect(
      WebhookCommandSchema.parse({
        name: 'ship',
        trigger: { type: 'mention' },
        action: { type: 'start_workflow', workflow: 'plan-do-review', inputs: { goal: '{{hangar.args}}' } },
      }).action,
    ).toEqual({ type: 'start_workflow', workflow: 'plan-do-review', inputs: { goal: '{{hangar.args}}' } });
    const refused = WebhookCommandSchema.safeParse({
      name: 'ship',
      trigger: { type: 'mention' },
      action: { type: 'start_workflow', workflow: 'Plan Do', inputs: { 'Bad-Name': 'x', goal: '' } },
    });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'action.inputs.Bad-Name',
      'action.inputs.goal',
      'action.workflow',
    ]);
  });
});
