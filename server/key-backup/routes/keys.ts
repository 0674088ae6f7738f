import type { Context, Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { SessionService } from '../service/sessions.ts';

/** Room and session ids are capped as the appendices cap ids: longer ones name nothing real. */
const MAX_ID_BYTES = 255;
const fitsId = (s: string): boolean => s.length > 0 && Buffer.byteLength(s) <= MAX_ID_BYTES;
const id = z.string().refine(fitsId, `must be 1 to ${MAX_ID_BYTES} bytes`);

// KeyBackupData: the server reads the three fields it compares keys by; session_data is opaque.
const keyBackupData = z
  .object({
    first_message_index: z.number().int().min(0),
    forwarded_count: z.number().int().min(0),
    is_verified: z.boolean(),
    session_data: z.record(z.string(), z.unknown()),
  })
  .loose()
  .transform(({ first_message_index, forwarded_count, is_verified, session_data }) => ({
    first_message_index,
    forwarded_count,
    is_verified,
    session_data,
  }));
const roomKeyBackup = z.object({ sessions: z.record(id, keyBackupData) }).loose();
const allKeys = z.object({ rooms: z.record(id, roomKeyBackup) }).loose();

/** The `version` query parameter every keys endpoint needs. */
function versionQuery(c: Context): string {
  const version = c.req.query('version');
  if (version === undefined || version === '') throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: version');
  return version;
}

function idParam(c: Context, name: 'roomId' | 'sessionId'): string {
  const value = c.req.param(name) ?? '';
  if (!fitsId(value)) throw new MatrixError(400, 'M_INVALID_PARAM', `${name} must be 1 to ${MAX_ID_BYTES} bytes`);
  return value;
}

const BASE = '/_matrix/client/v3/room_keys/keys';

export function keyRoutes(app: Hono<AppEnv>, { auth, sessions }: { auth: MiddlewareHandler<AppEnv>; sessions: SessionService }): void {
  const user = (c: Context<AppEnv>) => c.get('requester').userId;

  app.put(BASE, auth, async (c) => {
    const version = versionQuery(c);
    const body = await readBody(c, allKeys);
    const rooms = Object.fromEntries(Object.entries(body.rooms).map(([roomId, room]) => [roomId, room.sessions]));
    return c.json(await sessions.upload(user(c), version, rooms));
  });
  app.put(`${BASE}/:roomId`, auth, async (c) => {
    const version = versionQuery(c);
    const roomId = idParam(c, 'roomId');
    const body = await readBody(c, roomKeyBackup);
    return c.json(await sessions.upload(user(c), version, { [roomId]: body.sessions }));
  });
  app.put(`${BASE}/:roomId/:sessionId`, auth, async (c) => {
    const version = versionQuery(c);
    const roomId = idParam(c, 'roomId');
    const sessionId = idParam(c, 'sessionId');
    const key = await readBody(c, keyBackupData);
    return c.json(await sessions.upload(user(c), version, { [roomId]: { [sessionId]: key } }));
  });

  // Asked for a room or everything, no keys is an empty answer; asked for one session, it is a 404.
  app.get(BASE, auth, async (c) => {
    const rooms = await sessions.get(user(c), versionQuery(c), {});
    return c.json({ rooms: Object.fromEntries(Object.entries(rooms).map(([roomId, s]) => [roomId, { sessions: s }])) });
  });
  app.get(`${BASE}/:roomId`, auth, async (c) => {
    const roomId = idParam(c, 'roomId');
    const rooms = await sessions.get(user(c), versionQuery(c), { roomId });
    return c.json({ sessions: rooms[roomId] ?? {} });
  });
  app.get(`${BASE}/:roomId/:sessionId`, auth, async (c) => {
    const roomId = idParam(c, 'roomId');
    const sessionId = idParam(c, 'sessionId');
    const key = (await sessions.get(user(c), versionQuery(c), { roomId, sessionId }))[roomId]?.[sessionId];
    if (!key) throw new MatrixError(404, 'M_NOT_FOUND', 'No room key found for that session');
    return c.json(key);
  });

  app.delete(BASE, auth, async (c) => c.json(await sessions.delete(user(c), versionQuery(c), {})));
  app.delete(`${BASE}/:roomId`, auth, async (c) => {
    const roomId = idParam(c, 'roomId');
    return c.json(await sessions.delete(user(c), versionQuery(c), { roomId }));
  });
  app.delete(`${BASE}/:roomId/:sessionId`, auth, async (c) => {
    const roomId = idParam(c, 'roomId');
    const sessionId = idParam(c, 'sessionId');
    return c.json(await sessions.delete(user(c), versionQuery(c), { roomId, sessionId }));
  });
}
