import { NextResponse, type NextRequest } from 'next/server';
import { contentSecurityPolicy } from './app/lib/content-security-policy';

// A fresh nonce and the Content-Security-Policy for every page. Next.js reads the nonce from the
// request's policy header and puts it on its scripts; the layout reads `x-nonce` for its own.
export function middleware(request: NextRequest) {
  const nonce = btoa(crypto.randomUUID());
  const policy = contentSecurityPolicy({
    nonce,
    // Read per request, like the layout: one build serves any address.
    socketUrl: (process.env.HANGAR_PUBLIC_WS_URL ?? '').replace(/\/+$/, ''),
    dev: process.env.NODE_ENV === 'development',
  });
  const headers = new Headers(request.headers);
  headers.set('x-nonce', nonce);
  headers.set('content-security-policy', policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set('content-security-policy', policy);
  return response;
}

export const config = {
  // Pages only: built assets, the icon and the /api pass-through carry no policy of their own
  // (next.config.mjs gives every answer nosniff and the referrer policy).
  matcher: [
    {
      source: '/((?!api/|_next/static|_next/image|favicon.ico|icon.svg).*)',
      missing: [
        { type: 'header', key: 'next-router-prefetch' },
        { type: 'header', key: 'purpose', value: 'prefetch' },
      ],
    },
  ],
};
