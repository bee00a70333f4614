import type { NextRequest } from 'next/server';
import { gatewayUrl } from '../../lib/gateway-url';

export const dynamic = 'force-dynamic';

// On its own (development, `hangar up`) the dashboard answers /api/* itself by passing each
// request to the gateway, so the browser always talks to one origin. Behind NGINX or the Helm
// chart's ingress, /api/ goes to the gateway directly and this route is never reached.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

async function forward(request: NextRequest): Promise<Response> {
  const gateway = gatewayUrl();
  const url = new URL(request.url);
  const headers = new Headers();
  request.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) headers.set(name, value);
  });
  headers.set('x-forwarded-host', url.host);
  headers.set('x-forwarded-proto', url.protocol.replace(':', ''));
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  let upstream: Response;
  try {
    upstream = await fetch(`${gateway}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: hasBody ? await request.arrayBuffer() : undefined,
      redirect: 'manual',
      cache: 'no-store',
    });
  } catch (error) {
    return Response.json(
      {
        type: 'about:blank',
        title: 'Gateway unreachable',
        status: 502,
        detail: `the dashboard could not reach the gateway at ${gateway} (${String(error)}); is it running?`,
      },
      { status: 502, headers: { 'content-type': 'application/problem+json' } },
    );
  }
  const out = new Headers();
  upstream.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'content-encoding' && name !== 'set-cookie') out.set(name, value);
  });
  for (const cookie of upstream.headers.getSetCookie()) out.append('set-cookie', cookie);
  return new Response(upstream.body, { status: upstream.status, headers: out });
}

export const GET = forward;
export const POST = forward;
export const PUT = forward;
export const PATCH = forward;
export const DELETE = forward;
