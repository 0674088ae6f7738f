import type { Context, Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { Reports } from '../service/reports.ts';
import type { Tags } from '../service/tags.ts';
import { roomIdParam } from './params.ts';

export interface TagsAndReportsRouteDeps {
  auth: MiddlewareHandler<AppEnv>;
  tags: Tags;
  reports: Reports;
}

const MAX_TAG_BYTES = 255;

// Extra keys of a tag are kept; `order`, when given, places the room within the tag.
const tagBody = z.object({ order: z.number().min(0).max(1).optional() }).loose();

const eventReportBody = z
  .object({
    reason: z.string().max(4096).optional(),
    // Removed from the spec in v1.18; older clients still send it, so it is checked as it was defined.
    score: z.number().int().min(-100).max(0).optional(),
  })
  .loose();
const roomReportBody = z.object({ reason: z.string().max(4096) }).loose();

/** Tags belong to their owner alone. */
function ownUser(c: Context<AppEnv>): string {
  const userId = c.req.param('userId');
  if (userId !== c.get('requester').userId) throw new MatrixError(403, 'M_FORBIDDEN', 'Cannot access the tags of other users');
  return userId;
}

function tagParam(c: Context<AppEnv>): string {
  const tag = c.req.param('tag') ?? '';
  if (tag === '' || Buffer.byteLength(tag) > MAX_TAG_BYTES)
    throw new MatrixError(400, 'M_INVALID_PARAM', `A tag must be 1 to ${MAX_TAG_BYTES} bytes`);
  return tag;
}

/** Room tags (m.tag room account data) and content reports. */
export function tagsAndReportsRoutes(app: Hono<AppEnv>, { auth, tags, reports }: TagsAndReportsRouteDeps): void {
  app.get('/_matrix/client/v3/user/:userId/rooms/:roomId/tags', auth, async (c) => {
    const userId = ownUser(c);
    return c.json({ tags: await tags.get(userId, roomIdParam(c)) });
  });

  app.put('/_matrix/client/v3/user/:userId/rooms/:roomId/tags/:tag', auth, async (c) => {
    const userId = ownUser(c);
    const roomId = roomIdParam(c);
    const tag = tagParam(c);
    const body = await readBody(c, tagBody);
    await tags.put(userId, roomId, tag, body as JsonObject);
    return c.json({});
  });

  app.delete('/_matrix/client/v3/user/:userId/rooms/:roomId/tags/:tag', auth, async (c) => {
    const userId = ownUser(c);
    await tags.remove(userId, roomIdParam(c), tagParam(c));
    return c.json({});
  });

  app.post('/_matrix/client/v3/rooms/:roomId/report/:eventId', auth, async (c) => {
    const roomId = roomIdParam(c);
    const body = await readBody(c, eventReportBody);
    await reports.reportEvent(c.get('requester').userId, roomId, c.req.param('eventId'), body.reason ?? null, body.score ?? null);
    return c.json({});
  });

  app.post('/_matrix/client/v3/rooms/:roomId/report', auth, async (c) => {
    const roomId = roomIdParam(c);
    const body = await readBody(c, roomReportBody);
    await reports.reportRoom(c.get('requester').userId, roomId, body.reason);
    return c.json({});
  });
}
