import { renderToStaticMarkup } from 'react-dom/server';
import { AgentMarkdown } from '../app/components/agent-markdown';
import { Transcript } from '../app/components/transcript';
import { contentSecurityPolicy } from '../app/lib/content-security-policy';
import { safeNextPath } from '../app/lib/safe-next';
import { appendEvents } from '../app/lib/transcript-entries';

const ORIGIN = 'http://127.0.0.1:3000';

describe(safeNextPath.name, () => {
  it.each([
    ['/tasks', '/tasks'],
    ['/tasks/c123?status=RUNNING#top', '/tasks/c123?status=RUNNING#top'],
    ['/chat/c1', '/chat/c1'],
  ])('should keep the same-origin path %s', (next, expected) => {
    expect(safeNextPath(next, ORIGIN)).toBe(expected);
  });

  it.each([
    // What URLSearchParams hands over for ?next=/%5Cevil.com: a backslash the browser reads as `//`.
    '/\\evil.com',
    '//evil.com',
    '/\\/evil.com',
    '\\\\evil.com',
    // Tabs and newlines are dropped by the URL parser: these are `//evil.com` too.
    '/\t/evil.com',
    '/\n/evil.com',
    '/\r\n/evil.com',
    // Dot segments that collapse into a protocol-relative path.
    '/.//evil.com',
    '/tasks/../..//evil.com',
    // Still encoded once more (?next=/%255Cevil.com): harmless here, refused all the same.
    '/%5Cevil.com',
    '/%2F%2Fevil.com',
    '/%5C%5Cevil.com',
    'javascript:alert(document.cookie)',
    'JaVaScRiPt:alert(1)',
    'http://evil.com/tasks',
    'https:evil.com',
    'data:text/html,<script>alert(1)</script>',
    'evil.com',
    'tasks',
    '',
    null,
    undefined,
  ])('should send %p to / instead', (next) => {
    expect(safeNextPath(next, ORIGIN)).toBe('/');
  });
});

describe(contentSecurityPolicy.name, () => {
  const directives = (policy: string): Record<string, string[]> =>
    Object.fromEntries(
      policy.split('; ').map((directive): [string, string[]] => {
        const [name = '', ...sources] = directive.split(' ');
        return [name, sources];
      }),
    );

  it('should let scripts run only with the nonce and keep images, frames, objects and bases in', () => {
    const policy = directives(contentSecurityPolicy({ nonce: 'bm9uY2U=', socketUrl: '' }));
    expect(policy).toMatchObject({
      'default-src': ["'self'"],
      'script-src': ["'self'", "'nonce-bm9uY2U='", "'strict-dynamic'"],
      'img-src': ["'self'", 'data:'],
      'connect-src': ["'self'"],
      'object-src': ["'none'"],
      'base-uri': ["'self'"],
      'frame-ancestors': ["'none'"],
    });
    expect(policy['script-src']).not.toContain("'unsafe-inline'");
    expect(policy['script-src']).not.toContain("'unsafe-eval'");
  });

  it('should let the page reach Socket.IO on its own origin, over HTTP and WebSocket', () => {
    expect(
      directives(contentSecurityPolicy({ nonce: 'n', socketUrl: 'http://127.0.0.1:4006' }))['connect-src'],
    ).toEqual(["'self'", 'http://127.0.0.1:4006', 'ws://127.0.0.1:4006']);
    expect(
      directives(contentSecurityPolicy({ nonce: 'n', socketUrl: 'https://ws.example.com/' }))['connect-src'],
    ).toEqual(["'self'", 'https://ws.example.com', 'wss://ws.example.com']);
    // A setting that is no URL adds nothing rather than a source that would widen the policy.
    expect(
      directives(contentSecurityPolicy({ nonce: 'n', socketUrl: "* 'unsafe-inline'" }))['connect-src'],
    ).toEqual(["'self'"]);
  });
});

describe(AgentMarkdown.name, () => {
  it('should show a remote image as a link, never as an <img> that loads it', () => {
    const html = renderToStaticMarkup(
      <AgentMarkdown>
        {'Look: ![x](http://127.0.0.1:9/leak.png) and ![](data:image/png;base64,AAAA)'}
      </AgentMarkdown>,
    );
    expect(html).not.toContain('<img');
    expect(html).toContain('<a href="http://127.0.0.1:9/leak.png"');
    expect(html).toContain('[image: x]');
    expect(html).toContain('[image: untitled]');
  });

  it('should keep raw HTML as text', () => {
    const html = renderToStaticMarkup(
      <AgentMarkdown>{'<img src="http://127.0.0.1:9/raw.png">'}</AgentMarkdown>,
    );
    expect(html).not.toContain('<img');
  });
});

describe('a truncated line in the transcript', () => {
  it('should say which stream, how large it was, and show the start of it', () => {
    const entries = appendEvents(
      [],
      [
        {
          seq: 7,
          at: '',
          type: 'output.truncated',
          data: { stream: 'stdout', bytes: 52_428_800, head: '{"type":"assistant"' },
        },
      ],
    );
    const html = renderToStaticMarkup(<Transcript entries={entries} live={false} />);
    expect(html).toContain('stdout line truncated');
    expect(html).toContain('50.0 MiB (52,428,800 bytes)');
    expect(html).toContain('{&quot;type&quot;:&quot;assistant&quot;');
  });
});
