import { createHmac, randomUUID } from 'node:crypto';
import type { ServiceStack } from '@hangar/testing';

// Sends deliveries the way each provider does: its headers, its body encoding, its signature.

export interface Sent {
  status: number;
  body: unknown;
}

async function post(
  stack: ServiceStack,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<Sent> {
  const response = await fetch(`${stack.gatewayUrl}${path}`, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed };
}

const hmac = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest('hex');

export function sendGitHub(
  stack: ServiceStack,
  path: string,
  options: { event: string; payload: unknown; secret: string; delivery?: string; signature?: string | null },
): Promise<Sent> {
  const body = JSON.stringify(options.payload);
  const signature =
    options.signature === undefined ? `sha256=${hmac(options.secret, body)}` : options.signature;
  return post(stack, path, body, {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': options.event,
    'x-github-delivery': options.delivery ?? randomUUID(),
    ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
  });
}

export function sendSlack(
  stack: ServiceStack,
  path: string,
  options: { body: string; form?: boolean; secret: string; timestamp?: number },
): Promise<Sent> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return post(stack, path, options.body, {
    'content-type': options.form ? 'application/x-www-form-urlencoded' : 'application/json',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': `v0=${hmac(options.secret, `v0:${timestamp}:${options.body}`)}`,
  });
}

export function sendJira(
  stack: ServiceStack,
  path: string,
  options: { payload: unknown; secret: string; delivery?: string },
): Promise<Sent> {
  const body = JSON.stringify(options.payload);
  return post(stack, path, body, {
    'content-type': 'application/json',
    'x-atlassian-webhook-identifier': options.delivery ?? randomUUID(),
    'x-hub-signature': `sha256=${hmac(options.secret, body)}`,
  });
}

export function sendSentry(
  stack: ServiceStack,
  path: string,
  options: { resource: string; payload: unknown; secret: string; delivery?: string },
): Promise<Sent> {
  const body = JSON.stringify(options.payload);
  return post(stack, path, body, {
    'content-type': 'application/json',
    'request-id': options.delivery ?? randomUUID(),
    'sentry-hook-resource': options.resource,
    'sentry-hook-timestamp': String(Math.floor(Date.now() / 1000)),
    'sentry-hook-signature': hmac(options.secret, body),
  });
}

// GitHub's published example payloads (@octokit/webhooks-examples), by event and action.
interface ExampleSet {
  name: string;
  examples: Record<string, unknown>[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON data file of the package
const EXAMPLES = require('@octokit/webhooks-examples/api.github.com/index.json') as ExampleSet[];

export function githubExample(event: string, action: string): Record<string, unknown> {
  const found = EXAMPLES.find((set) => set.name === event)?.examples.find(
    (example) => example.action === action,
  );
  if (!found) throw new Error(`no published example of ${event}.${action}`);
  return structuredClone(found);
}
