import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, Requester } from './hono-env.ts';
import { MatrixError } from './matrix-error.ts';
import { clientIp } from './client-ip.ts';

export interface Authenticator {
  authenticate(token: string, seen?: { ip: string | null; userAgent: string | null }): Promise<Requester>;
}

/** The bearer token of a request: the Authorization header, or the deprecated query parameter. */
export function accessToken(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new MatrixError(401, 'M_MISSING_TOKEN', 'Invalid Authorization header');
    return m[1];
  }
  return c.req.query('access_token') || undefined;
}

/** Route middleware: sets `requester` or answers M_MISSING_TOKEN / M_UNKNOWN_TOKEN. */
export function requireAuth(auth: Authenticator): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = accessToken(c);
    if (!token) throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    const requester = await auth.authenticate(token, { ip: clientIp(c), userAgent: c.req.header('user-agent') ?? null });
    c.set('requester', requester);
    await next();
  };
}

/** For endpoints that work with or without a token (e.g. /versions, /profile). */
export function optionalAuth(auth: Authenticator): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = accessToken(c);
    if (token) c.set('requester', await auth.authenticate(token));
    await next();
  };
}
