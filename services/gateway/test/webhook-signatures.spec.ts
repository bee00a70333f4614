import { createHmac } from 'node:crypto';
import type { WebhookProvider } from '@hangar/contracts';
import { verifySignature } from '../src/modules/webhooks/signatures';

type Headers = Record<string, string | string[] | undefined>;

const SECRET = 'It5-a-s3cret-of-16+chars';
const NOW = new Date('2025-06-01T12:00:00Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const BODY = Buffer.from('{"action":"created","comment":{"body":"@hangar fix this"},"emoji":"✓"}', 'utf8');

function hmacHex(secret: string, ...parts: Buffer[]): string {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(part);
  return hmac.digest('hex');
}

function flipped(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  copy[5] = (copy[5] ?? 0) ^ 0x01;
  return copy;
}

// How each provider signs BODY, and the header that carries the signature.
interface Signer {
  header: string;
  display: string;
  sign(body: Buffer, secret: string): Headers;
  malformed: string;
}

const slackTimestamp = String(NOW_SECONDS - 10);

const SIGNERS: Record<WebhookProvider, Signer> = {
  github: {
    header: 'x-hub-signature-256',
    display: 'X-Hub-Signature-256',
    sign: (body, secret) => ({ 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}` }),
    malformed: 'sha256=zz',
  },
  slack: {
    header: 'x-slack-signature',
    display: 'X-Slack-Signature',
    sign: (body, secret) => ({
      'x-slack-request-timestamp': slackTimestamp,
      'x-slack-signature': `v0=${hmacHex(secret, Buffer.from(`v0:${slackTimestamp}:`), body)}`,
    }),
    malformed: 'v0=zz',
  },
  jira: {
    header: 'x-hub-signature',
    display: 'X-Hub-Signature',
    sign: (body, secret) => ({ 'x-hub-signature': `sha256=${hmacHex(secret, body)}` }),
    malformed: 'sha256=zz',
  },
  sentry: {
    header: 'sentry-hook-signature',
    display: 'Sentry-Hook-Signature',
    sign: (body, secret) => ({ 'sentry-hook-signature': hmacHex(secret, body) }),
    malformed: 'zz',
  },
};

describe(verifySignature.name, () => {
  describe.each(Object.entries(SIGNERS) as [WebhookProvider, Signer][])('%s', (provider, signer) => {
    const verify = (headers: Headers, body: Buffer = BODY, secret = SECRET) =>
      verifySignature(provider, body, headers, secret, NOW);

    it('should pass when the signature is the HMAC of the exact body', () => {
      expect(verify(signer.sign(BODY, SECRET))).toEqual({ ok: true });
    });

    it('should pass when the header arrives as an array', () => {
      const headers = signer.sign(BODY, SECRET);
      headers[signer.header] = [headers[signer.header] as string];
      expect(verify(headers)).toEqual({ ok: true });
    });

    it('should fail when one byte of the body changed', () => {
      expect(verify(signer.sign(BODY, SECRET), flipped(BODY))).toEqual({
        ok: false,
        reason: `${signer.display} does not match the body`,
      });
    });

    it('should fail when the body was signed with another secret', () => {
      expect(verify(signer.sign(BODY, 'another-secret-of-16+chars'))).toEqual({
        ok: false,
        reason: `${signer.display} does not match the body`,
      });
    });

    it('should fail when the signature header is missing', () => {
      const headers = signer.sign(BODY, SECRET);
      delete headers[signer.header];
      expect(verify(headers)).toEqual({ ok: false, reason: `missing ${signer.display}` });
    });

    it.each([
      ['not hex', () => signer.malformed],
      ['too short', (valid: string) => valid.slice(0, -2)],
      ['too long', (valid: string) => `${valid}00`],
      ['without its scheme or with another', (valid: string) => `sha1=${valid.replace(/^(sha256|v0)=/, '')}`],
      ['empty', () => ''],
    ])('should fail without throwing when the signature is %s', (_case, mangle) => {
      const headers = signer.sign(BODY, SECRET);
      headers[signer.header] = mangle(headers[signer.header] as string);
      const result = verify(headers);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toMatch(new RegExp(`^${signer.display} is malformed`));
    });

    it('should fail when no secret is configured', () => {
      expect(verify(signer.sign(BODY, ''), BODY, '')).toEqual({
        ok: false,
        reason: 'no signing secret is configured',
      });
    });
  });

  describe('jira', () => {
    it('should pass when the signature comes in X-Hub-Signature-256', () => {
      const headers = { 'x-hub-signature-256': `sha256=${hmacHex(SECRET, BODY)}` };
      expect(verifySignature('jira', BODY, headers, SECRET, NOW)).toEqual({ ok: true });
    });

    it('should fail naming X-Hub-Signature-256 when that one does not match', () => {
      const headers = { 'x-hub-signature-256': `sha256=${hmacHex(SECRET, flipped(BODY))}` };
      expect(verifySignature('jira', BODY, headers, SECRET, NOW)).toEqual({
        ok: false,
        reason: 'X-Hub-Signature-256 does not match the body',
      });
    });
  });

  describe('github', () => {
    it('should pass when the hex digits are upper case', () => {
      const headers = { 'x-hub-signature-256': `sha256=${hmacHex(SECRET, BODY).toUpperCase()}` };
      expect(verifySignature('github', BODY, headers, SECRET, NOW)).toEqual({ ok: true });
    });
  });

  describe('slack timestamps', () => {
    const signedAt = (timestamp: string, body: Buffer = BODY): Headers => ({
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': `v0=${hmacHex(SECRET, Buffer.from(`v0:${timestamp}:`), body)}`,
    });
    const verify = (headers: Headers) => verifySignature('slack', BODY, headers, SECRET, NOW);

    it('should pass when the timestamp is 299 seconds old', () => {
      expect(verify(signedAt(String(NOW_SECONDS - 299)))).toEqual({ ok: true });
    });

    it('should fail when the timestamp is 301 seconds old', () => {
      expect(verify(signedAt(String(NOW_SECONDS - 301)))).toEqual({
        ok: false,
        reason: 'X-Slack-Request-Timestamp is older than 5 minutes',
      });
    });

    it('should pass when the timestamp is 299 seconds ahead', () => {
      expect(verify(signedAt(String(NOW_SECONDS + 299)))).toEqual({ ok: true });
    });

    it('should fail when the timestamp is far in the future', () => {
      expect(verify(signedAt(String(NOW_SECONDS + 3600)))).toEqual({
        ok: false,
        reason: 'X-Slack-Request-Timestamp is more than 5 minutes in the future',
      });
    });

    it.each(['1717243200.5', 'yesterday', '-5', '', '1e9'])(
      'should fail when the timestamp is %p rather than whole seconds',
      (timestamp) => {
        expect(verify(signedAt(timestamp))).toEqual({
          ok: false,
          reason: 'X-Slack-Request-Timestamp is not a Unix time in seconds',
        });
      },
    );

    it('should fail when the timestamp header is missing', () => {
      const headers = signedAt(String(NOW_SECONDS));
      delete headers['x-slack-request-timestamp'];
      expect(verify(headers)).toEqual({ ok: false, reason: 'missing X-Slack-Request-Timestamp' });
    });

    it('should fail when the timestamp was changed after signing', () => {
      const headers = signedAt(String(NOW_SECONDS - 400));
      headers['x-slack-request-timestamp'] = String(NOW_SECONDS);
      expect(verify(headers)).toEqual({ ok: false, reason: 'X-Slack-Signature does not match the body' });
    });
  });
});
