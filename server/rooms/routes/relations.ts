import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { Relations } from '../service/relations.ts';
import { intQuery, roomIdParam } from './params.ts';

export interface RelationRouteDeps {
  auth: MiddlewareHandler<AppEnv>;
  relations: Relations;
}

function viewer(c: Context<AppEnv>) {
  const r = c.get('requester');
  return { userId: r.userId, deviceId: r.deviceId };
}

function recurseQuery(c: Context): boolean | undefined {
  const raw = c.req.query('recurse');
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new MatrixError(400, 'M_INVALID_PARAM', 'recurse must be true or false');
}

/** GET /relations (child events of an event) and GET /threads (thread roots of a room). */
export function relationRoutes(app: Hono<AppEnv>, { auth, relations }: RelationRouteDeps): void {
  const getRelations = async (c: Context<AppEnv>) => {
    const dir = c.req.query('dir') ?? 'b';
    if (dir !== 'b' && dir !== 'f') throw new MatrixError(400, 'M_INVALID_PARAM', 'dir must be b or f');
    return c.json(
      await relations.relations(viewer(c), roomIdParam(c), c.req.param('eventId') ?? '', {
        relType: c.req.param('relType'),
        eventType: c.req.param('eventType'),
        from: c.req.query('from'),
        to: c.req.query('to'),
        dir,
        // The spec leaves limits to the server: default 20, at most 100, at least 1.
        limit: Math.max(1, intQuery(c, 'limit', 20, 100)),
        recurse: recurseQuery(c),
      }),
    );
  };
  const base = '/_matrix/client/v1/rooms/:roomId/relations/:eventId';
  app.get(base, auth, getRelations);
  app.get(`${base}/:relType`, auth, getRelations);
  app.get(`${base}/:relType/:eventType`, auth, getRelations);

  app.get('/_matrix/client/v1/rooms/:roomId/threads', auth, async (c) => {
    const include = c.req.query('include') ?? 'all';
    if (include !== 'all' && include !== 'participated')
      throw new MatrixError(400, 'M_INVALID_PARAM', 'include must be all or participated');
    const limit = intQuery(c, 'limit', 20, 100);
    if (limit < 1) throw new MatrixError(400, 'M_INVALID_PARAM', 'limit must be greater than zero');
    return c.json(await relations.threads(viewer(c), roomIdParam(c), { include, from: c.req.query('from'), limit }));
  });
}
