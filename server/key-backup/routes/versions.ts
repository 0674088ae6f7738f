import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import type { VersionService } from '../service/versions.ts';

// The spec lists one algorithm; others are stored as given, as Synapse does, so that a
// client trying a newer one (MSC3270) is not refused by the server that only keeps it.
const algorithm = z.string().min(1).max(255);
const authData = z.record(z.string(), z.unknown());

const createBody = z.object({ algorithm, auth_data: authData }).loose();
const updateBody = z.object({ algorithm, auth_data: authData, version: z.string().optional() }).loose();

const BASE = '/_matrix/client/v3/room_keys/version';

export function versionRoutes(app: Hono<AppEnv>, { auth, versions }: { auth: MiddlewareHandler<AppEnv>; versions: VersionService }): void {
  app.post(BASE, auth, async (c) => {
    const body = await readBody(c, createBody);
    return c.json({ version: await versions.create(c.get('requester').userId, body.algorithm, body.auth_data) });
  });

  app.get(BASE, auth, async (c) => c.json(await versions.info(c.get('requester').userId)));

  app.get(`${BASE}/:version`, auth, async (c) => c.json(await versions.info(c.get('requester').userId, c.req.param('version'))));

  app.put(`${BASE}/:version`, auth, async (c) => {
    const body = await readBody(c, updateBody);
    await versions.update(c.get('requester').userId, c.req.param('version'), body);
    return c.json({});
  });

  app.delete(`${BASE}/:version`, auth, async (c) => {
    await versions.delete(c.get('requester').userId, c.req.param('version'));
    return c.json({});
  });
}
