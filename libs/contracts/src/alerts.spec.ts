import { alertHolds, CreateAlertRuleSchema, CreateAlertTargetSchema } from './alerts';

// What the API answers for each field it refuses: the field's path and the message.
function refusal(result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) {
  return result.error?.issues.map((issue) => [issue.path.join('.'), issue.message]);
}

describe('alert rules', () => {
  const rule = { name: 'Failures', series: 'task.failure_rate', threshold: 0.5 };

  it('takes a rule with the defaults filled in', () => {
    expect(CreateAlertRuleSchema.parse(rule)).toEqual({
      ...rule,
      comparator: '>',
      windowMinutes: 60,
      forSeconds: 0,
      severity: 'warning',
      installation: false,
      targets: [],
      enabled: true,
    });
  });

  it.each([
    [{ series: 'task.nope' }, 'series', /^unknown series "task.nope"; one of task.failure_rate, task.failed/],
    [{ threshold: 1.5 }, 'threshold', /at most 1; the threshold 1.5 could never be crossed/],
    [{ threshold: -0.1 }, 'threshold', />=0/],
    [{ threshold: Number.NaN }, 'threshold', /number/],
    [{ threshold: '0.5' }, 'threshold', /number/],
    [{ windowMinutes: 0 }, 'windowMinutes', />=1/],
    [{ forSeconds: 86_401 }, 'forSeconds', /<=86400/],
    [{ severity: 'fatal' }, 'severity', /info|warning|critical/],
    [{ comparator: '=' }, 'comparator', />/],
    [{ series: 'runner.live', threshold: 1 }, 'series', /installation/],
    [{ targets: ['a', 'a'] }, 'targets', /named twice/],
    [{ extra: 1 }, '', /extra/],
  ])('refuses %j, naming %s', (change, field, message) => {
    const issues = refusal(CreateAlertRuleSchema.safeParse({ ...rule, ...change }));
    expect(issues).toEqual([[field, expect.stringMatching(message)]]);
  });

  it('takes runner.live for the installation', () => {
    expect(
      CreateAlertRuleSchema.safeParse({
        ...rule,
        series: 'runner.live',
        installation: true,
        comparator: '<',
        threshold: 1,
      }).success,
    ).toBe(true);
  });

  it.each([
    ['>', 2, 1, true],
    ['>', 1, 1, false],
    ['>=', 1, 1, true],
    ['<', 0, 1, true],
    ['<', 1, 1, false],
    ['<=', 1, 1, true],
  ] as const)('%s: %d against %d holds: %s', (comparator, value, threshold, holds) => {
    expect(alertHolds(comparator, value, threshold)).toBe(holds);
  });
});

describe('alert targets', () => {
  it.each([
    { kind: 'slack', name: 's', url: 'https://hooks.slack.com/services/T/B/x' },
    { kind: 'webhook', name: 'w', url: 'http://pager.internal/hook', secret: '0123456789abcdef' },
    { kind: 'email', name: 'e', to: ['ops@example.com'] },
    { kind: 'alertmanager', name: 'a', url: 'http://alertmanager:9093' },
  ])('takes a $kind target', (target) => {
    expect(CreateAlertTargetSchema.parse(target)).toEqual(target);
  });

  it.each([
    [{ kind: 'slack', name: 's' }, 'url', 'a slack target needs its url'],
    [{ kind: 'email', name: 'e' }, 'to', 'an email target names its recipients'],
    [
      { kind: 'email', name: 'e', to: ['ops@example.com'], url: 'http://x' },
      'url',
      'an email target has no url',
    ],
    [
      { kind: 'alertmanager', name: 'a', url: 'http://x', to: ['ops@example.com'] },
      'to',
      'an alertmanager target has no recipients',
    ],
    [
      { kind: 'slack', name: 's', url: 'http://x', secret: '0123456789abcdef' },
      'secret',
      'only a webhook target is signed',
    ],
    [{ kind: 'webhook', name: 'w', url: 'file:///etc/passwd' }, 'url', 'must be an http(s) URL'],
  ])('refuses %j, naming %s', (target, field, message) => {
    expect(refusal(CreateAlertTargetSchema.safeParse(target))).toEqual([[field, message]]);
  });
});
