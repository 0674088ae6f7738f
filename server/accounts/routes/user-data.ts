import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import { readBody, readJsonObject } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { AccountsRouteDeps } from './deps.ts';
import { filterSchema } from '../../matrix/index.ts';

/** Account data and filters belong to their owner alone. */
function ownUser(c: Context<AppEnv>): string {
  const userId = c.req.param('userId');
  if (userId !== c.get('requester').userId) throw new MatrixError(403, 'M_FORBIDDEN', 'Cannot access data of other users');
  return userId;
}

function roomIdParam(c: Context<AppEnv>): string {
  const roomId = c.req.param('roomId') ?? '';
  if (!/^![^:]+(:.+)?$/.test(roomId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room ID');
  return roomId;
}

// These have their own endpoints, which keep them consistent with server-side state.
const SERVER_MANAGED = new Set(['m.fully_read', 'm.push_rules']);

export function userDataRoutes(app: Hono<AppEnv>, { userData, auth }: AccountsRouteDeps): void {
  app.get('/_matrix/client/v3/profile/:userId', async (c) => c.json(await userData.getProfile(c.req.param('userId'))));

  for (const field of ['displayname', 'avatar_url'] as const) {
    app.get(`/_matrix/client/v3/profile/:userId/${field}`, async (c) => {
      const profile = await userData.getProfile(c.req.param('userId'));
      if (profile[field] === undefined) throw new MatrixError(404, 'M_NOT_FOUND', `No ${field} set`);
      return c.json({ [field]: profile[field] });
    });
    app.put(`/_matrix/client/v3/profile/:userId/${field}`, auth, async (c) => {
      const userId = c.req.param('userId');
      if (userId !== c.get('requester').userId) throw new MatrixError(403, 'M_FORBIDDEN', 'Cannot set the profile of other users');
      const body = await readBody(
        c,
        z.object({
          [field]: z
            .string()
            .max(field === 'displayname' ? 256 : 1000)
            .nullable()
            .optional(),
        }),
      );
      await userData.setProfileField(userId, field, (body[field] as string | null | undefined) ?? null);
      return c.json({});
    });
  }

  const accountData = (scoped: boolean) => async (c: Context<AppEnv>) => {
    const userId = ownUser(c);
    const roomId = scoped ? roomIdParam(c) : '';
    const type = c.req.param('type') ?? '';
    if (c.req.method === 'GET') return c.json(await userData.getAccountData(userId, roomId, type));
    if (SERVER_MANAGED.has(type)) throw new MatrixError(405, 'M_BAD_JSON', `Cannot set ${type} through this API`);
    const content = await readJsonObject(c);
    await userData.putAccountData(userId, roomId, type, content as JsonObject);
    return c.json({});
  };
  app.get('/_matrix/client/v3/user/:userId/account_data/:type', auth, accountData(false));
  app.put('/_matrix/client/v3/user/:userId/account_data/:type', auth, accountData(false));
  app.get('/_matrix/client/v3/user/:userId/rooms/:roomId/account_data/:type', auth, accountData(true));
  app.put('/_matrix/client/v3/user/:userId/rooms/:roomId/account_data/:type', auth, accountData(true));

  app.post('/_matrix/client/v3/user/:userId/filter', auth, async (c) => {
    const userId = ownUser(c);
    const filter = await readBody(c, filterSchema);
    return c.json({ filter_id: await userData.createFilter(userId, filter as JsonObject) });
  });
  app.get('/_matrix/client/v3/user/:userId/filter/:filterId', auth, async (c) =>
    c.json(await userData.getFilter(ownUser(c), c.req.param('filterId'))),
  );
}
