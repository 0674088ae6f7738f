import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import type { RoomUpgrader } from '../service/room-upgrade.ts';
import { roomIdParam } from './params.ts';

export interface UpgradeRouteDeps {
  auth: MiddlewareHandler<AppEnv>;
  upgrader: RoomUpgrader;
}

const upgradeBody = z
  .object({
    new_version: z.string().min(1).max(64),
    additional_creators: z.array(z.string()).max(100).optional(),
  })
  .loose();

/** POST /rooms/{roomId}/upgrade. */
export function upgradeRoutes(app: Hono<AppEnv>, { auth, upgrader }: UpgradeRouteDeps): void {
  app.post('/_matrix/client/v3/rooms/:roomId/upgrade', auth, async (c) => {
    const body = await readBody(c, upgradeBody);
    const replacement = await upgrader.upgrade(c.get('requester').userId, roomIdParam(c), body.new_version, body.additional_creators ?? []);
    return c.json({ replacement_room: replacement });
  });
}
