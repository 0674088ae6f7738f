import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { PresenceService } from '../service/presence.ts';

const putBody = z
  .object({
    presence: z.enum(['online', 'offline', 'unavailable']),
    status_msg: z.string().max(1024).nullable().optional(),
  })
  .loose();

export function presenceRoutes(
  app: Hono<AppEnv>,
  { auth, presence }: { auth: MiddlewareHandler<AppEnv>; presence: PresenceService },
): void {
  app.put('/_matrix/client/v3/presence/:userId/status', auth, async (c) => {
    const userId = c.req.param('userId');
    if (userId !== c.get('requester').userId) throw new MatrixError(403, 'M_FORBIDDEN', 'You cannot set the presence of another user');
    const body = await readBody(c, putBody);
    await presence.set(userId, body.presence, body.status_msg ?? null);
    return c.json({});
  });

  app.get('/_matrix/client/v3/presence/:userId/status', auth, async (c) =>
    c.json(await presence.get(c.get('requester').userId, c.req.param('userId'))),
  );
}
