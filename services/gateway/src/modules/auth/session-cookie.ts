import type { Request, Response } from 'express';
import { SESSION_COOKIE } from '@hangar/auth';

export { SESSION_COOKIE };

// httpOnly (no script reads it), SameSite=Lax (no other site's form or fetch carries it on a
// POST), Secure when the request came over HTTPS unless configured otherwise.
export function setSessionCookie(
  request: Request,
  response: Response,
  value: string,
  expiresAt: Date,
  secure: 'auto' | 'true' | 'false',
): void {
  response.cookie(SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'lax',
    secure: secure === 'auto' ? request.secure : secure === 'true',
    path: '/',
    expires: expiresAt,
  });
}

export function clearSessionCookie(response: Response): void {
  response.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/' });
}
