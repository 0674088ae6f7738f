import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import type { Notifications } from '../service/notifications.ts';
import type { Pushers } from '../service/pushers.ts';

const CS = '/_matrix/client/v3';

const setBody = z
  .object({
    pushkey: z.string().min(1).max(512),
    kind: z.string().min(1).max(64).nullable(),
    app_id: z.string().min(1).max(64),
    app_display_name: z.string().max(256).optional(),
    device_display_name: z.string().max(256).optional(),
    profile_tag: z.string().max(256).optional(),
    lang: z.string().max(64).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    append: z.boolean().optional(),
  })
  .loose();

export function pusherRoutes(
  app: Hono<AppEnv>,
  { auth, pushers, notifications }: { auth: MiddlewareHandler<AppEnv>; pushers: Pushers; notifications: Notifications },
): void {
  app.get(`${CS}/pushers`, auth, async (c) => c.json({ pushers: await pushers.list(c.get('requester').userId) }));

  app.post(`${CS}/pushers/set`, auth, async (c) => {
    await pushers.set(c.get('requester'), await readBody(c, setBody));
    return c.json({});
  });

  app.get(`${CS}/notifications`, auth, async (c) =>
    c.json(
      await notifications.list(c.get('requester').userId, {
        from: c.req.query('from'),
        limit: c.req.query('limit'),
        only: c.req.query('only'),
      }),
    ),
  );
}
