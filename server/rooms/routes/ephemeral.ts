import type { Context, Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { readBody, readJsonObject } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { Ephemeral, ReceiptType } from '../service/ephemeral.ts';
import { roomIdParam } from './params.ts';

export interface EphemeralRouteDeps {
  auth: MiddlewareHandler<AppEnv>;
  ephemeral: Ephemeral;
}

const typingBody = z.object({
  typing: z.boolean(),
  timeout: z.number().int().min(0).optional(),
});

const eventId = z.string().regex(/^\$/, 'must be an event ID');
const readMarkersBody = z
  .object({
    'm.fully_read': eventId.optional(),
    'm.read': eventId.optional(),
    'm.read.private': eventId.optional(),
  })
  .loose();

const RECEIPT_TYPES = new Set<string>(['m.read', 'm.read.private', 'm.fully_read']);
const DEFAULT_TYPING_TIMEOUT_MS = 30_000;

function eventIdParam(c: Context<AppEnv>): string {
  const id = c.req.param('eventId') ?? '';
  if (!id.startsWith('$')) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid event ID');
  return id;
}

/** Typing notices, read receipts and read markers. */
export function ephemeralRoutes(app: Hono<AppEnv>, { auth, ephemeral }: EphemeralRouteDeps): void {
  app.put('/_matrix/client/v3/rooms/:roomId/typing/:userId', auth, async (c) => {
    const who = c.get('requester');
    const roomId = roomIdParam(c);
    if (c.req.param('userId') !== who.userId) throw new MatrixError(403, 'M_FORBIDDEN', 'Cannot set the typing state of another user');
    const body = await readBody(c, typingBody);
    await ephemeral.setTyping(who.userId, roomId, body.typing, body.timeout ?? DEFAULT_TYPING_TIMEOUT_MS);
    return c.json({});
  });

  app.post('/_matrix/client/v3/rooms/:roomId/receipt/:receiptType/:eventId', auth, async (c) => {
    const roomId = roomIdParam(c);
    const receiptType = c.req.param('receiptType');
    if (!RECEIPT_TYPES.has(receiptType))
      throw new MatrixError(400, 'M_INVALID_PARAM', `Receipt type must be one of ${[...RECEIPT_TYPES].join(', ')}`);
    const target = eventIdParam(c);
    const body = await readJsonObject(c);
    const threadId = body.thread_id;
    if (threadId !== undefined && (typeof threadId !== 'string' || threadId === '')) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'thread_id field must be a non-empty string');
    }
    await ephemeral.sendReceipt(c.get('requester').userId, roomId, receiptType as ReceiptType | 'm.fully_read', target, threadId);
    return c.json({});
  });

  app.post('/_matrix/client/v3/rooms/:roomId/read_markers', auth, async (c) => {
    const roomId = roomIdParam(c);
    const body = await readBody(c, readMarkersBody);
    await ephemeral.setReadMarkers(c.get('requester').userId, roomId, {
      fullyRead: body['m.fully_read'],
      read: body['m.read'],
      readPrivate: body['m.read.private'],
    });
    return c.json({});
  });
}
