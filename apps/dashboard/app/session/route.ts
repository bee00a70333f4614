import type { NextRequest } from 'next/server';
import { gatewayUrl } from '../lib/gateway-url';

export const dynamic = 'force-dynamic';

// Who is signed in, asked by the dashboard's own server: `{me}` or `{me: null}`, always 200, so
// a signed-out visit does not log a failed request in the browser's console.
export async function GET(request: NextRequest): Promise<Response> {
  const answer = await fetch(`${gatewayUrl()}/api/v1/auth/me`, {
    headers: { cookie: request.headers.get('cookie') ?? '' },
    cache: 'no-store',
  });
  if (answer.status === 401) return Response.json({ me: null });
  if (!answer.ok)
    return new Response(await answer.text(), { status: answer.status, headers: answer.headers });
  return Response.json({ me: (await answer.json()) as unknown });
}
