import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import { readBody, readJsonObject } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { DeviceKeys } from '../service/device-keys.ts';

import type { KeySignatures } from '../service/key-signatures.ts';

const CS = '/_matrix/client/v3';

/** A one-time or fallback key: a bare curve25519 key, or a signed object. */
const oneTimeKeys = z.record(z.string(), z.union([z.string(), z.object({ key: z.string() }).loose()]));

const uploadBody = z
  .object({
    device_keys: z
      .object({
        user_id: z.string(),
        device_id: z.string(),
        algorithms: z.array(z.string()),
        keys: z.record(z.string(), z.string()),
        signatures: z.record(z.string(), z.record(z.string(), z.string())),
      })
      .loose()
      .optional(),
    one_time_keys: oneTimeKeys.optional(),
    fallback_keys: oneTimeKeys.optional(),
    // The name before fallback keys were in the spec; some clients still send it.
    'org.matrix.msc2732.fallback_keys': oneTimeKeys.optional(),
  })
  .loose();

const queryBody = z.object({ device_keys: z.record(z.string(), z.array(z.string())), timeout: z.number().int().optional() }).loose();

const claimBody = z
  .object({ one_time_keys: z.record(z.string(), z.record(z.string(), z.string())), timeout: z.number().int().optional() })
  .loose();

/** One request may not name more keys than this (a claim or a query of a whole large server at once). */
const MAX_KEYS_PER_REQUEST = 10_000;

function countNames(map: Record<string, Record<string, unknown> | unknown[]>): number {
  let n = 0;
  for (const v of Object.values(map)) n += 1 + (Array.isArray(v) ? v.length : Object.keys(v).length);
  return n;
}

export interface KeyRouteDeps {
  auth: MiddlewareHandler<AppEnv>;
  deviceKeys: DeviceKeys;
  signatures: KeySignatures;
  /** A /sync token's stream position (keys/changes takes two). */
  streamPosOf: (token: string) => number;
  /** What a /sync's device_lists would say for (from, to]. */
  changesBetween: (userId: string, from: number, to: number) => Promise<{ changed: string[]; left: string[] }>;
}

export function keyRoutes(app: Hono<AppEnv>, { auth, deviceKeys, signatures, streamPosOf, changesBetween }: KeyRouteDeps): void {
  app.post(`${CS}/keys/upload`, auth, async (c) => {
    const body = await readBody(c, uploadBody);
    const fallback = body.fallback_keys ?? body['org.matrix.msc2732.fallback_keys'];
    return c.json(
      await deviceKeys.upload(c.get('requester'), {
        device_keys: body.device_keys as (JsonObject & { user_id: string; device_id: string }) | undefined,
        one_time_keys: body.one_time_keys,
        fallback_keys: fallback,
      }),
    );
  });

  app.post(`${CS}/keys/query`, auth, async (c) => {
    const body = await readBody(c, queryBody);
    if (countNames(body.device_keys) > MAX_KEYS_PER_REQUEST) throw new MatrixError(400, 'M_TOO_LARGE', 'Too many keys asked for at once');
    return c.json(await deviceKeys.query(c.get('requester'), body.device_keys));
  });

  app.post(`${CS}/keys/claim`, auth, async (c) => {
    const body = await readBody(c, claimBody);
    if (countNames(body.one_time_keys) > MAX_KEYS_PER_REQUEST) throw new MatrixError(400, 'M_TOO_LARGE', 'Too many keys asked for at once');
    return c.json(await deviceKeys.claim(body.one_time_keys));
  });

  app.get(`${CS}/keys/changes`, auth, async (c) => {
    const from = c.req.query('from');
    const to = c.req.query('to');
    if (from === undefined || to === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'from and to are required');
    const [a, b] = [streamPosOf(from), streamPosOf(to)];
    return c.json(await changesBetween(c.get('requester').userId, Math.min(a, b), Math.max(a, b)));
  });

  for (const prefix of [CS, '/_matrix/client/unstable']) {
    app.post(`${prefix}/keys/device_signing/upload`, auth, async (c) => {
      await signatures.uploadCrossSigning(c.get('requester'), await readJsonObject(c), c.req.path);
      return c.json({});
    });
    app.post(`${prefix}/keys/signatures/upload`, auth, async (c) =>
      c.json(await signatures.uploadSignatures(c.get('requester'), await readJsonObject(c))),
    );
  }
}
