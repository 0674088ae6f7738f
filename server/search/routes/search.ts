import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { roomEventFilterSchema } from '../../matrix/index.ts';
import type { Search } from '../service/search.ts';

const count = z.number().int().min(0);

const roomEventsCriteria = z
  .object({
    // Longer than anyone types; a bound on what reaches the query parser.
    search_term: z.string().max(4096),
    keys: z.array(z.enum(['content.body', 'content.name', 'content.topic'])).optional(),
    filter: roomEventFilterSchema.optional(),
    order_by: z.enum(['recent', 'rank']).optional(),
    event_context: z
      .object({ before_limit: count.optional(), after_limit: count.optional(), include_profile: z.boolean().optional() })
      .loose()
      .optional(),
    include_state: z.boolean().optional(),
    groupings: z
      .object({ group_by: z.array(z.object({ key: z.enum(['room_id', 'sender']) }).loose()).optional() })
      .loose()
      .optional(),
  })
  .loose();

const searchBody = z
  .object({
    search_categories: z.object({ room_events: roomEventsCriteria.optional() }).loose(),
  })
  .loose();

export function searchRoutes(app: Hono<AppEnv>, { auth, search }: { auth: MiddlewareHandler<AppEnv>; search: Search }): void {
  app.post('/_matrix/client/v3/search', auth, async (c) => {
    const body = await readBody(c, searchBody);
    const criteria = body.search_categories.room_events;
    const { userId, deviceId } = c.get('requester');
    // Categories this server does not search are answered with nothing, as the spec allows.
    if (!criteria) return c.json({ search_categories: {} });
    const roomEvents = await search.roomEvents({ userId, deviceId }, criteria, c.req.query('next_batch'));
    return c.json({ search_categories: { room_events: roomEvents } });
  });
}
