// The dashboard's Content-Security-Policy (middleware.ts sends it with every page). Scripts run
// only with this response's nonce — Next.js puts it on its own scripts and the layout on the
// theme script — and what they load ('strict-dynamic'). Nothing may frame the dashboard, and
// agent output can make the browser fetch nothing: images only from this origin or data: URLs.
export function contentSecurityPolicy(options: { nonce: string; socketUrl: string; dev?: boolean }): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    // Next.js's dev server evaluates its modules; a production build never does.
    'script-src': [
      "'self'",
      `'nonce-${options.nonce}'`,
      "'strict-dynamic'",
      ...(options.dev ? ["'unsafe-eval'"] : []),
    ],
    // Style attributes (React's `style`, the charts) cannot carry a nonce; styles run no code.
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'", ...socketOrigins(options.socketUrl)],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

// Socket.IO on another origin (HANGAR_PUBLIC_WS_URL): its WebSocket and, for the handshake's
// fallback, its HTTP origin. Empty (behind NGINX): this origin, already 'self'.
function socketOrigins(socketUrl: string): string[] {
  if (!socketUrl) return [];
  let url: URL;
  try {
    url = new URL(socketUrl);
  } catch {
    return [];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return [];
  const ws = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return [url.origin, `${ws}//${url.host}`];
}
