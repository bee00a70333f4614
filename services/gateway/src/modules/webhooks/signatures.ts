import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookProvider } from '@hangar/contracts';

// Hand-written on purpose: all four providers sign with HMAC-SHA256 in hex, so one constant-time
// helper covers them. Their own verifiers are ESM-only (@octokit/webhooks-methods), part of a
// heavy framework (@slack/bolt), or do not exist as a package (Jira, Sentry).

export type Verification = { ok: true } | { ok: false; reason: string };

type Headers = Record<string, string | string[] | undefined>;

// Slack's replay window, both ways: an old request and a clock far ahead are both refused.
const SLACK_MAX_SKEW_SECONDS = 5 * 60;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

export function verifySignature(
  provider: WebhookProvider,
  raw: Buffer,
  headers: Headers,
  secret: string,
  now: Date = new Date(),
): Verification {
  // An empty key would let anyone sign.
  if (secret.length === 0) return refuse('no signing secret is configured');
  switch (provider) {
    case 'github':
      return verifyPrefixed(
        header(headers, 'x-hub-signature-256'),
        'X-Hub-Signature-256',
        'sha256=',
        raw,
        secret,
      );
    case 'slack':
      return verifySlack(raw, headers, secret, now);
    case 'jira': {
      // Jira Cloud sends the WebSub header; some proxies and older setups use GitHub's name.
      const websub = header(headers, 'x-hub-signature');
      if (websub !== undefined) return verifyPrefixed(websub, 'X-Hub-Signature', 'sha256=', raw, secret);
      const github = header(headers, 'x-hub-signature-256');
      if (github !== undefined) return verifyPrefixed(github, 'X-Hub-Signature-256', 'sha256=', raw, secret);
      return refuse('missing X-Hub-Signature');
    }
    case 'sentry':
      return verifyPrefixed(
        header(headers, 'sentry-hook-signature'),
        'Sentry-Hook-Signature',
        '',
        raw,
        secret,
      );
  }
}

function verifySlack(raw: Buffer, headers: Headers, secret: string, now: Date): Verification {
  const timestamp = header(headers, 'x-slack-request-timestamp');
  if (timestamp === undefined) return refuse('missing X-Slack-Request-Timestamp');
  if (!/^\d{1,15}$/.test(timestamp)) return refuse('X-Slack-Request-Timestamp is not a Unix time in seconds');
  const skew = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (skew > SLACK_MAX_SKEW_SECONDS) return refuse('X-Slack-Request-Timestamp is older than 5 minutes');
  if (skew < -SLACK_MAX_SKEW_SECONDS) {
    return refuse('X-Slack-Request-Timestamp is more than 5 minutes in the future');
  }
  // The timestamp is part of what is signed, so a replay cannot move it.
  const signed = Buffer.concat([Buffer.from(`v0:${timestamp}:`, 'utf8'), raw]);
  return verifyPrefixed(header(headers, 'x-slack-signature'), 'X-Slack-Signature', 'v0=', signed, secret);
}

// `<scheme><64 hex digits>` where the hex is HMAC-SHA256(secret, signed).
function verifyPrefixed(
  value: string | undefined,
  name: string,
  scheme: string,
  signed: Buffer,
  secret: string,
): Verification {
  if (value === undefined) return refuse(`missing ${name}`);
  const hex = value.trim();
  if (!hex.startsWith(scheme) || !HEX_SHA256.test(hex.slice(scheme.length))) {
    return refuse(`${name} is malformed (expected ${scheme}<64 hex digits>)`);
  }
  const given = Buffer.from(hex.slice(scheme.length), 'hex');
  const expected = createHmac('sha256', secret).update(signed).digest();
  return constantTimeEqual(given, expected) ? { ok: true } : refuse(`${name} does not match the body`);
}

function constantTimeEqual(left: Buffer, right: Buffer): boolean {
  // timingSafeEqual throws on different lengths; a length says nothing about the secret.
  return left.length === right.length && timingSafeEqual(left, right);
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function refuse(reason: string): Verification {
  return { ok: false, reason };
}
