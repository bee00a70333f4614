import { WebhookCommandSchema } from '@hangar/contracts';
import { matchCommand } from '../src/modules/webhooks/command-matcher';
import { MATCHED_TEXT_LIMIT, patternError } from '../src/modules/webhooks/condition-pattern';
import type { InboundEvent } from '../src/modules/webhooks/inbound-event';

const commandMatching = (pattern: string) =>
  WebhookCommandSchema.parse({
    name: 'bodies',
    trigger: { type: 'event' },
    conditions: [{ path: 'comment.body', op: 'matches', value: pattern }],
    action: { type: 'create_task', template: '{{comment.body}}' },
  });

const commentSaying = (body: string): InboundEvent => ({
  provider: 'github',
  event: 'issue_comment.created',
  labelsAdded: [],
  payload: { comment: { body } },
});

describe('matches conditions', () => {
  it('should answer at once when a backtracking pattern meets a long text that almost matches', () => {
    // JavaScript's RegExp takes exponential time here: 30 characters already take seconds.
    const body = `${'a'.repeat(50_000)}!`;
    const started = process.hrtime.bigint();
    const result = matchCommand([commandMatching('(a+)+$')], commentSaying(body), 'd');
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(result.matched).toBeNull();
    expect(elapsedMs).toBeLessThan(1000);
  });

  it('should still match what the pattern says when it matches', () => {
    const result = matchCommand(
      [commandMatching('(?i)^please (fix|repair)\\b')],
      commentSaying('Please fix it'),
      'd',
    );
    expect(result.matched?.command.name).toBe('bodies');
  });

  it('should read only the first part of a text longer than the limit', () => {
    const tail = `${'x'.repeat(MATCHED_TEXT_LIMIT)}needle`;
    expect(matchCommand([commandMatching('needle')], commentSaying(tail), 'd').matched).toBeNull();
    expect(matchCommand([commandMatching('^x+')], commentSaying(tail), 'd').matched).not.toBeNull();
  });

  it.each([
    ['(a)\\1', 'backreference'],
    ['foo(?=bar)', 'lookahead'],
    ['(?<!a)b', 'lookbehind'],
  ])('should refuse %s (a %s) as no RE2 expression', (pattern) => {
    expect(patternError(pattern)).toMatch(/^not an RE2 regular expression/);
  });

  it('should take RE2 syntax that JavaScript does not know', () => {
    expect(patternError('(?P<word>\\w+)')).toBeUndefined();
  });

  it('should fail the delivery, naming the condition, when a stored pattern is no RE2 expression', () => {
    expect(() => matchCommand([commandMatching('(a)\\1')], commentSaying('aa'), 'd')).toThrow(
      'the condition on comment.body: not an RE2 regular expression',
    );
  });
});
