import type { Hono } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { RoomsRouteDeps } from './deps.ts';
import { roomIdParam, userIdValue } from './params.ts';

const json = z.record(z.string(), z.unknown());

const createRoomBody = z.object({
  preset: z.enum(['private_chat', 'public_chat', 'trusted_private_chat']).optional(),
  visibility: z.enum(['public', 'private']).optional(),
  room_version: z.string().optional(),
  creation_content: json.optional(),
  initial_state: z
    .array(z.object({ type: z.string().min(1), state_key: z.string().optional(), content: json }))
    .max(100)
    .optional(),
  name: z.string().max(255).optional(),
  topic: z.string().max(4096).optional(),
  invite: z.array(z.string()).max(500).optional(),
  invite_3pid: z.array(z.unknown()).optional(),
  room_alias_name: z.string().max(255).optional(),
  power_level_content_override: json.optional(),
  is_direct: z.boolean().optional(),
});

const reasonBody = z.object({ reason: z.string().max(1024).optional() }).loose();
const targetBody = z.object({ user_id: z.string(), reason: z.string().max(1024).optional() });

export function createAndMembershipRoutes(app: Hono<AppEnv>, { auth, createRoom, membership }: RoomsRouteDeps): void {
  app.post('/_matrix/client/v3/createRoom', auth, async (c) => {
    const body = await readBody(c, createRoomBody);
    const roomId = await createRoom(c.get('requester').userId, body as never);
    return c.json({ room_id: roomId });
  });

  const join = (param: string) => async (c: import('hono').Context<AppEnv>) => {
    const body = await readBody(c, reasonBody);
    // The whole body is the member event's content (a reason, custom keys), as clients expect.
    // Hono has already percent-decoded the parameter: decoding again would read `%2523` as `#`.
    const roomId = await membership.join(
      c.get('requester').userId,
      c.req.param(param) ?? '',
      body as Record<string, unknown> as JsonObject,
    );
    return c.json({ room_id: roomId });
  };
  app.post('/_matrix/client/v3/join/:roomIdOrAlias', auth, join('roomIdOrAlias'));
  app.post('/_matrix/client/v3/rooms/:roomId/join', auth, join('roomId'));

  app.post('/_matrix/client/v3/knock/:roomIdOrAlias', auth, async (c) => {
    const body = await readBody(c, reasonBody);
    const roomId = await membership.knock(c.get('requester').userId, c.req.param('roomIdOrAlias'), body.reason);
    return c.json({ room_id: roomId });
  });

  app.post('/_matrix/client/v3/rooms/:roomId/invite', auth, async (c) => {
    const body = await readBody(c, targetBody.extend({ is_direct: z.boolean().optional() }));
    await membership.invite(c.get('requester').userId, roomIdParam(c), userIdValue(body.user_id), body.reason, body.is_direct);
    return c.json({});
  });

  for (const action of ['kick', 'ban', 'unban'] as const) {
    app.post(`/_matrix/client/v3/rooms/:roomId/${action}`, auth, async (c) => {
      const body = await readBody(c, targetBody);
      await membership[action](c.get('requester').userId, roomIdParam(c), userIdValue(body.user_id), body.reason);
      return c.json({});
    });
  }

  app.post('/_matrix/client/v3/rooms/:roomId/leave', auth, async (c) => {
    const body = await readBody(c, reasonBody);
    await membership.leave(c.get('requester').userId, roomIdParam(c), body.reason);
    return c.json({});
  });

  app.post('/_matrix/client/v3/rooms/:roomId/forget', auth, async (c) => {
    await membership.forget(c.get('requester').userId, roomIdParam(c));
    return c.json({});
  });
}
