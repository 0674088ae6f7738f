import type { Hono } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { enforceRate } from '../../http/rate-limit.ts';
import type { AccountsRouteDeps } from './deps.ts';

const registerBody = z.object({
  username: z.string().optional(),
  password: z.string().max(512).optional(),
  device_id: z.string().min(1).max(255).optional(),
  initial_device_display_name: z.string().max(512).optional(),
  inhibit_login: z.boolean().optional(),
  refresh_token: z.boolean().optional(),
  auth: z.record(z.string(), z.unknown()).optional(),
  type: z.string().optional(),
});

const adminRegisterBody = z.object({
  nonce: z.string(),
  username: z.string(),
  password: z.string(),
  displayname: z.string().optional(),
  admin: z.boolean().default(false),
  user_type: z.string().nullable().optional(),
  mac: z.string(),
});

export function registerRoutes(app: Hono<AppEnv>, { registration, rateLimiter, config }: AccountsRouteDeps): void {
  app.post('/_matrix/client/v3/register', async (c) => {
    const kind = c.req.query('kind') ?? 'user';
    if (kind === 'guest') throw new MatrixError(403, 'M_FORBIDDEN', 'Guest access is disabled');
    if (kind !== 'user') throw new MatrixError(400, 'M_INVALID_PARAM', 'kind must be user or guest');
    const body = await readBody(c, registerBody);
    const result = await registration.register(
      {
        username: body.username,
        password: body.password,
        deviceId: body.device_id,
        initialDeviceDisplayName: body.initial_device_display_name,
        inhibitLogin: body.inhibit_login ?? false,
        refreshToken: body.refresh_token ?? false,
        auth: body.auth,
        path: c.req.path,
      },
      () => enforceRate(rateLimiter, c, 'register', config.rate_limits.register),
    );
    return c.json({ ...result, home_server: config.server_name });
  });

  app.get('/_matrix/client/v3/register/available', async (c) => {
    const username = c.req.query('username');
    if (!username) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing username');
    await enforceRate(rateLimiter, c, 'register_available', { per_second: 5, burst_count: 30 });
    await registration.available(username);
    return c.json({ available: true });
  });

  app.get('/_matrix/client/v1/register/m.login.registration_token/validity', async (c) => {
    const token = c.req.query('token');
    if (!token) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing token');
    await enforceRate(rateLimiter, c, 'registration_token_validity', { per_second: 0.1, burst_count: 10 });
    return c.json({ valid: await registration.tokenValid(token) });
  });

  app.get('/_synapse/admin/v1/register', (c) => {
    if (!config.registration.shared_secret) throw new MatrixError(400, 'M_UNKNOWN', 'Shared secret registration is not enabled');
    return c.json({ nonce: registration.newNonce() });
  });

  app.post('/_synapse/admin/v1/register', async (c) => {
    const body = await readBody(c, adminRegisterBody);
    const result = await registration.sharedSecretRegister(body);
    return c.json({ ...result, home_server: config.server_name });
  });
}
