import type { Context, Hono } from 'hono';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import { readBody, readJsonObject } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { enforceRate } from '../../http/rate-limit.ts';
import { z } from 'zod';
import type { RoomsRouteDeps } from './deps.ts';
import { filterQuery, intQuery, roomIdParam } from './params.ts';

function viewer(c: Context<AppEnv>) {
  const r = c.get('requester');
  return { userId: r.userId, deviceId: r.deviceId };
}

export function eventRoutes(app: Hono<AppEnv>, { auth, writes, reads, rateLimiter, config }: RoomsRouteDeps): void {
  app.put('/_matrix/client/v3/rooms/:roomId/send/:eventType/:txnId', auth, async (c) => {
    const who = c.get('requester');
    await enforceRate(rateLimiter, c, 'message', config.rate_limits.message, who.userId);
    const content = await readJsonObject(c, { required: true });
    const eventId = await writes.sendMessage(who, roomIdParam(c), c.req.param('eventType'), c.req.param('txnId'), content as JsonObject);
    return c.json({ event_id: eventId });
  });

  const putState = async (c: Context<AppEnv>) => {
    const content = await readJsonObject(c, { required: true });
    const eventId = await writes.setState(
      c.get('requester'),
      roomIdParam(c),
      c.req.param('eventType') ?? '',
      c.req.param('stateKey') ?? '',
      content as JsonObject,
    );
    return c.json({ event_id: eventId });
  };
  const getState = async (c: Context<AppEnv>) => {
    const ev = await reads.stateEvent(viewer(c), roomIdParam(c), c.req.param('eventType') ?? '', c.req.param('stateKey') ?? '');
    return c.json(c.req.query('format') === 'event' ? ev : ev.content);
  };
  for (const path of [
    '/_matrix/client/v3/rooms/:roomId/state/:eventType/:stateKey',
    '/_matrix/client/v3/rooms/:roomId/state/:eventType',
    '/_matrix/client/v3/rooms/:roomId/state/:eventType/',
  ]) {
    app.put(path, auth, putState);
    app.get(path, auth, getState);
  }
  app.get('/_matrix/client/v3/rooms/:roomId/state', auth, async (c) => c.json(await reads.state(viewer(c), roomIdParam(c))));

  app.put('/_matrix/client/v3/rooms/:roomId/redact/:eventId/:txnId', auth, async (c) => {
    const body = await readBody(c, z.object({ reason: z.string().max(1024).optional() }).loose());
    const eventId = await writes.redact(c.get('requester'), roomIdParam(c), c.req.param('eventId'), c.req.param('txnId'), body.reason);
    return c.json({ event_id: eventId });
  });

  app.get('/_matrix/client/v3/rooms/:roomId/messages', auth, async (c) => {
    const dir = c.req.query('dir') ?? 'b';
    if (dir !== 'b' && dir !== 'f') throw new MatrixError(400, 'M_INVALID_PARAM', 'dir must be b or f');
    const filter = filterQuery(c);
    return c.json(
      await reads.messages(viewer(c), roomIdParam(c), {
        from: c.req.query('from'),
        to: c.req.query('to'),
        dir,
        limit: intQuery(c, 'limit', filter?.limit ?? 10, 1000),
        filter,
      }),
    );
  });

  app.get('/_matrix/client/v3/rooms/:roomId/context/:eventId', auth, async (c) =>
    c.json(await reads.context(viewer(c), roomIdParam(c), c.req.param('eventId'), intQuery(c, 'limit', 10, 1000), filterQuery(c))),
  );

  app.get('/_matrix/client/v3/rooms/:roomId/event/:eventId', auth, async (c) =>
    c.json(await reads.event(viewer(c), roomIdParam(c), c.req.param('eventId'))),
  );

  app.get('/_matrix/client/v3/rooms/:roomId/members', auth, async (c) => {
    const membership = c.req.query('membership');
    const notMembership = c.req.query('not_membership');
    const valid = new Set(['join', 'invite', 'knock', 'leave', 'ban']);
    if ((membership && !valid.has(membership)) || (notMembership && !valid.has(notMembership))) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown membership');
    }
    return c.json({ chunk: await reads.members(viewer(c), roomIdParam(c), { at: c.req.query('at'), membership, notMembership }) });
  });

  const joinedMembers = async (c: Context<AppEnv>) => c.json({ joined: await reads.joinedMembers(viewer(c), roomIdParam(c)) });
  app.get('/_matrix/client/v3/rooms/:roomId/joined_members', auth, joinedMembers);
  // Older clients and test suites still ask the r0 path of this one.
  app.get('/_matrix/client/r0/rooms/:roomId/joined_members', auth, joinedMembers);

  app.get('/_matrix/client/v3/joined_rooms', auth, async (c) =>
    c.json({ joined_rooms: await reads.joinedRooms(c.get('requester').userId) }),
  );
}
