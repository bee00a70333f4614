import {
  WebhookCommandSchema,
  type WebhookCommand,
  type WebhookCommandInput,
  type WebhookProvider,
} from '@hangar/contracts';

// What the static receivers (/webhooks/<provider>) listen for. A configuration of its own
// (/webhooks/<provider>/<id>) replaces these with the commands it lists.
export function builtinCommands(
  provider: WebhookProvider,
  options: { profile: string; repository?: string | undefined },
): WebhookCommand[] {
  const task = (template: string, repository?: string) => ({
    type: 'create_task' as const,
    template,
    profile: options.profile,
    ...((repository ?? options.repository) ? { repository: repository ?? options.repository } : {}),
  });
  // `@hangar approve|approve-all|deny [<approval id>] [why]` in the thread of a task whose tool call
  // waits for approval (docs/governance.md); before the catch-all that starts tasks.
  const approvals = (events: string[], trigger: 'mention' | 'slash' = 'mention'): WebhookCommandInput[] =>
    (
      [
        ['approve', 'allow-once'],
        ['approve-all', 'allow-task'],
        ['deny', 'deny'],
      ] as const
    ).map(([name, decision]) => ({
      name,
      events,
      trigger: { type: trigger },
      action: { type: 'answer_approval' as const, decision },
    }));
  const commands: Record<WebhookProvider, WebhookCommandInput[]> = {
    github: [
      ...approvals(['issue_comment.created', 'pull_request_review_comment.created']),
      {
        // "@hangar fix the failing test" in an issue, a pull request or a review comment.
        name: '*',
        events: ['issue_comment.created', 'pull_request_review_comment.created', 'issues.opened'],
        trigger: { type: 'mention' },
        action: task(
          '{{hangar.args}}\n\n(Asked by {{sender.login}} on {{repository.full_name}}, in "{{hangar.title}}".)',
          '{{repository.clone_url}}',
        ),
      },
      {
        // An issue labelled `hangar`: work on the issue itself.
        name: 'label',
        events: ['issues.labeled'],
        trigger: { type: 'label', label: 'hangar' },
        action: task(
          'Work on issue #{{issue.number}} of {{repository.full_name}}: {{issue.title}}\n\n{{issue.body}}',
          '{{repository.clone_url}}',
        ),
      },
    ],
    slack: [
      ...approvals(['app_mention', 'message']),
      { name: '*', events: ['slash_command'], trigger: { type: 'slash' }, action: task('{{hangar.args}}') },
      {
        name: '*',
        events: ['app_mention', 'message'],
        trigger: { type: 'mention' },
        action: task('{{hangar.args}}'),
      },
    ],
    jira: [
      ...approvals(['comment_created']),
      {
        name: '*',
        events: ['comment_created'],
        trigger: { type: 'mention' },
        action: task('{{hangar.args}}\n\n(On Jira issue {{issue.key}}: "{{hangar.title}}".)'),
      },
      {
        name: 'label',
        events: ['jira:issue_updated'],
        trigger: { type: 'label', label: 'hangar' },
        action: task('Work on Jira issue {{issue.key}}: {{hangar.title}}'),
      },
    ],
    sentry: [
      {
        name: 'alert',
        events: ['event_alert', 'issue.created'],
        trigger: { type: 'event' },
        action: task('Sentry reports an error: {{hangar.title}}\n\nFind its cause in the code and fix it.'),
      },
    ],
  };
  return commands[provider].map((command) => WebhookCommandSchema.parse(command));
}
