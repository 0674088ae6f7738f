import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { ToDevice } from '../service/to-device.ts';

const sendBody = z.object({ messages: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))) }).loose();

/** The same bound as an event type in a room. */
const MAX_TYPE_BYTES = 255;

export function toDeviceRoutes(app: Hono<AppEnv>, { auth, toDevice }: { auth: MiddlewareHandler<AppEnv>; toDevice: ToDevice }): void {
  app.put('/_matrix/client/v3/sendToDevice/:eventType/:txnId', auth, async (c) => {
    const type = c.req.param('eventType');
    if (Buffer.byteLength(type) > MAX_TYPE_BYTES) throw new MatrixError(400, 'M_TOO_LARGE', 'Event type too long');
    const body = await readBody(c, sendBody);
    await toDevice.send(c.get('requester'), type, c.req.param('txnId'), body.messages as Record<string, Record<string, JsonObject>>);
    return c.json({});
  });
}
