import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { HIERARCHY_DEFAULT_LIMIT, HIERARCHY_MAX_DEPTH, HIERARCHY_MAX_LIMIT, type Hierarchy } from '../service/hierarchy.ts';
import { intQuery, roomIdParam } from './params.ts';

export interface HierarchyRouteDeps {
  auth: MiddlewareHandler<AppEnv>;
  hierarchy: Hierarchy;
}

function suggestedOnlyQuery(c: Context): boolean {
  const raw = c.req.query('suggested_only');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new MatrixError(400, 'M_INVALID_PARAM', 'suggested_only must be true or false');
}

/** GET /rooms/{roomId}/hierarchy: the rooms of a space tree, a page at a time. */
export function hierarchyRoutes(app: Hono<AppEnv>, { auth, hierarchy }: HierarchyRouteDeps): void {
  app.get('/_matrix/client/v1/rooms/:roomId/hierarchy', auth, async (c) => {
    const roomId = roomIdParam(c);
    const limit = intQuery(c, 'limit', HIERARCHY_DEFAULT_LIMIT, HIERARCHY_MAX_LIMIT);
    // The spec: "an integer greater than zero".
    if (limit < 1) throw new MatrixError(400, 'M_INVALID_PARAM', 'limit must be greater than zero');
    const maxDepth = intQuery(c, 'max_depth', HIERARCHY_MAX_DEPTH, HIERARCHY_MAX_DEPTH);
    const suggestedOnly = suggestedOnlyQuery(c);
    const from = c.req.query('from') || undefined;
    return c.json(await hierarchy.hierarchy(c.get('requester').userId, roomId, { suggestedOnly, maxDepth, limit, from }));
  });
}
