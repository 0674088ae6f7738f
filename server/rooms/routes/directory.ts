import type { Context, Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { PublicRooms } from '../service/public-rooms.ts';
import type { RoomAliases } from '../service/room-aliases.ts';
import { intQuery, roomIdParam } from './params.ts';

export interface DirectoryRouteDeps {
  serverName: string;
  auth: MiddlewareHandler<AppEnv>;
  /** Sets `requester` when a token is given; for endpoints the spec leaves unauthenticated. */
  optionalAuth: MiddlewareHandler<AppEnv>;
  aliases: RoomAliases;
  publicRooms: PublicRooms;
}

const aliasBody = z.object({ room_id: z.string().regex(/^![^\s]+$/, 'room_id must be a room ID') }).loose();
const visibilityBody = z.object({ visibility: z.enum(['public', 'private']).optional() }).loose();
const publicRoomsBody = z
  .object({
    limit: z.number().int().min(0).optional(),
    since: z.string().optional(),
    filter: z
      .object({
        generic_search_term: z.string().max(1024).optional(),
        room_types: z.array(z.string().nullable()).max(100).optional(),
      })
      .loose()
      .optional(),
    include_all_networks: z.boolean().optional(),
    third_party_instance_id: z.string().optional(),
  })
  .loose();

/** Default and largest page of the room directory. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

function actor(c: Context<AppEnv>) {
  const r = c.get('requester');
  return { userId: r.userId, isAdmin: r.isAdmin };
}

/** Room aliases (/directory/room, /rooms/{id}/aliases) and the published room directory (/publicRooms, /directory/list/room). */
export function directoryRoutes(app: Hono<AppEnv>, { serverName, auth, optionalAuth, aliases, publicRooms }: DirectoryRouteDeps): void {
  const aliasPath = '/_matrix/client/v3/directory/room/:roomAlias';
  app.get(aliasPath, optionalAuth, async (c) => c.json(await aliases.resolve(c.req.param('roomAlias'))));
  app.put(aliasPath, auth, async (c) => {
    const body = await readBody(c, aliasBody).catch((e: unknown) => {
      // A room_id that is present but not a room ID is an invalid parameter, not malformed JSON.
      throw e instanceof MatrixError && e.errcode === 'M_BAD_JSON' ? new MatrixError(400, 'M_INVALID_PARAM', e.message) : e;
    });
    await aliases.create(actor(c), c.req.param('roomAlias'), body.room_id);
    return c.json({});
  });
  app.delete(aliasPath, auth, async (c) => {
    await aliases.remove(actor(c), c.req.param('roomAlias'));
    return c.json({});
  });
  app.get('/_matrix/client/v3/rooms/:roomId/aliases', auth, async (c) =>
    c.json({ aliases: await aliases.localAliases(actor(c), roomIdParam(c)) }),
  );

  const listPath = '/_matrix/client/v3/directory/list/room/:roomId';
  app.get(listPath, optionalAuth, async (c) => c.json({ visibility: await publicRooms.visibility(roomIdParam(c)) }));
  app.put(listPath, auth, async (c) => {
    const body = await readBody(c, visibilityBody);
    await publicRooms.setVisibility(actor(c), roomIdParam(c), body.visibility ?? 'public');
    return c.json({});
  });

  /** Only this server's directory: asking for another's needs federation, which is not there yet. */
  const checkServer = (c: Context) => {
    const server = c.req.query('server');
    if (server !== undefined && server !== '' && server !== serverName) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `Cannot fetch the room directory of ${server}: only ${serverName} is available`);
    }
  };
  app.get('/_matrix/client/v3/publicRooms', optionalAuth, async (c) => {
    checkServer(c);
    return c.json(
      await publicRooms.list({
        limit: Math.max(1, intQuery(c, 'limit', DEFAULT_LIMIT, MAX_LIMIT)),
        since: c.req.query('since') || undefined,
      }),
    );
  });
  app.post('/_matrix/client/v3/publicRooms', auth, async (c) => {
    checkServer(c);
    const body = await readBody(c, publicRoomsBody);
    if (body.include_all_networks && body.third_party_instance_id !== undefined) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'third_party_instance_id cannot be combined with include_all_networks');
    }
    return c.json(
      await publicRooms.list({
        limit: Math.min(Math.max(1, body.limit ?? DEFAULT_LIMIT), MAX_LIMIT),
        since: body.since || undefined,
        search: body.filter?.generic_search_term?.trim() || undefined,
        roomTypes: body.filter?.room_types,
        thirdPartyInstanceId: body.third_party_instance_id,
      }),
    );
  });
}
