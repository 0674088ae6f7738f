import { domainOf } from '../../../federation/auth/index.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import { transaction } from '../../db/transaction.ts';
import type { Requester } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import {
  deviceKeysOf,
  existingOneTimeKeys,
  insertOneTimeKeys,
  keyCountsOf,
  putDeviceKeys,
  putFallbackKeys,
  takeOneTimeKey,
  useFallbackKey,
  type OneTimeKey,
} from '../storage/device-keys.ts';
import { canonical } from './canonical-key.ts';
import type { DeviceLists } from './device-lists.ts';
import { mergeSignatures, type KeySignatures } from './key-signatures.ts';

export interface DeviceKeysDeps {
  sql: Sql;
  serverName: string;
  deviceLists: DeviceLists;
  signatures: KeySignatures;
}

export interface UploadRequest {
  device_keys?: (JsonObject & { user_id: string; device_id: string }) | undefined;
  one_time_keys?: Record<string, unknown> | undefined;
  fallback_keys?: Record<string, unknown> | undefined;
}

/** "signed_curve25519:AAAAHg" -> its algorithm and id; a key id without a colon is refused. */
function splitKeyId(id: string, field: string): { algorithm: string; key_id: string } {
  const colon = id.indexOf(':');
  if (colon <= 0 || colon === id.length - 1)
    throw new MatrixError(400, 'M_INVALID_PARAM', `${field}: key id ${JSON.stringify(id)} is not <algorithm>:<id>`);
  return { algorithm: id.slice(0, colon), key_id: id.slice(colon + 1) };
}

function keysOf(map: Record<string, unknown> | undefined, field: string): OneTimeKey[] {
  return Object.entries(map ?? {}).map(([id, key]) => ({ ...splitKeyId(id, field), key_json: canonical(key, field) }));
}

/** The server of a user id: keys of other servers' users come over federation. */
const serverOf = (userId: string): string => domainOf(userId) ?? '';

/** Device keys, one-time and fallback keys: what another device needs to start an Olm session with one. */
export function createDeviceKeys({ sql, serverName, deviceLists, signatures }: DeviceKeysDeps) {
  async function counts(userId: string, deviceId: string): Promise<Record<string, number>> {
    const [c] = await keyCountsOf(sql, [{ userId, deviceId }]);
    // Clients read a missing signed_curve25519 as "unknown", not "none left": say 0.
    return { signed_curve25519: 0, ...c!.oneTimeKeys };
  }

  return {
    /**
     * keys/upload: all or nothing. A one-time key id already stored with different content is
     * refused: a client that lost track of its keys must not silently replace one a peer may
     * have claimed.
     */
    async upload(who: Requester, req: UploadRequest): Promise<{ one_time_key_counts: Record<string, number> }> {
      const dk = req.device_keys;
      if (dk && (dk.user_id !== who.userId || dk.device_id !== who.deviceId))
        throw new MatrixError(400, 'M_INVALID_PARAM', 'device_keys must be for the device making the request');
      const deviceJson = dk ? canonical(dk, 'device_keys') : undefined;
      const oneTime = keysOf(req.one_time_keys, 'one_time_keys');
      const fallback = keysOf(req.fallback_keys, 'fallback_keys');
      if (new Set(fallback.map((k) => k.algorithm)).size !== fallback.length)
        throw new MatrixError(400, 'M_INVALID_PARAM', 'fallback_keys: one key per algorithm');
      const changedAt = await transaction(sql, async (tx) => {
        const stored = await existingOneTimeKeys(tx, who.userId, who.deviceId, oneTime);
        const sent = new Map(oneTime.map((k) => [`${k.algorithm}:${k.key_id}`, k.key_json]));
        for (const s of stored) {
          if (sent.get(`${s.algorithm}:${s.key_id}`) !== s.key_json)
            throw new MatrixError(400, 'M_INVALID_PARAM', `One-time key ${s.algorithm}:${s.key_id} already exists with different content`);
        }
        await insertOneTimeKeys(tx, who.userId, who.deviceId, oneTime);
        await putFallbackKeys(tx, who.userId, who.deviceId, fallback);
        if (deviceJson === undefined || !(await putDeviceKeys(tx, who.userId, who.deviceId, deviceJson))) return undefined;
        return deviceLists.record(tx, [who.userId]);
      });
      if (changedAt !== undefined) await deviceLists.announce([who.userId], changedAt);
      return { one_time_key_counts: await counts(who.userId, who.deviceId) };
    },

    /**
     * keys/query: the device keys (with their names and the signatures uploaded since) and
     * cross-signing keys of local users; the user-signing key, and what it signed, only to its
     * owner. Other servers' users are reported under failures until federation can ask them.
     */
    async query(who: Requester, wanted: Record<string, string[]>) {
      const local = Object.entries(wanted).filter(([u]) => serverOf(u) === serverName);
      const failures: Record<string, JsonObject> = {};
      for (const [u] of Object.entries(wanted)) {
        if (serverOf(u) !== serverName) failures[serverOf(u)] = { errcode: 'M_UNAVAILABLE', error: 'Federation is not available' };
      }
      const userIds = local.map(([u]) => u);
      const [rows, cross, sigs] = await Promise.all([
        deviceKeysOf(
          sql,
          local.map(([userId, deviceIds]) => ({ userId, deviceIds })),
        ),
        signatures.crossSigningKeys(userIds),
        signatures.uploadedOn(userIds, who.userId),
      ]);
      const device_keys: Record<string, Record<string, JsonObject>> = Object.fromEntries(userIds.map((u) => [u, {}]));
      for (const r of rows) {
        const key = mergeSignatures(JSON.parse(r.key_json) as JsonObject, sigs.get(`${r.user_id}\n${r.device_id}`));
        const unsigned = {
          ...((key.unsigned as JsonObject | undefined) ?? {}),
          ...(r.display_name !== null ? { device_display_name: r.display_name } : {}),
        };
        device_keys[r.user_id]![r.device_id] = { ...key, unsigned };
      }
      const master_keys: Record<string, JsonObject> = {};
      const self_signing_keys: Record<string, JsonObject> = {};
      const user_signing_keys: Record<string, JsonObject> = {};
      for (const k of cross) {
        const key = mergeSignatures(JSON.parse(k.key_json) as JsonObject, sigs.get(`${k.user_id}\n${k.public_key}`));
        if (k.key_type === 'master') master_keys[k.user_id] = key;
        else if (k.key_type === 'self_signing') self_signing_keys[k.user_id] = key;
        else if (k.user_id === who.userId) user_signing_keys[k.user_id] = key;
      }
      return { device_keys, master_keys, self_signing_keys, user_signing_keys, failures };
    },

    /** keys/claim: a one-time key of each device asked for, each handed out once; then its fallback key. */
    async claim(wanted: Record<string, Record<string, string>>) {
      const one_time_keys: Record<string, Record<string, Record<string, unknown>>> = {};
      const failures: Record<string, JsonObject> = {};
      for (const [userId, devices] of Object.entries(wanted)) {
        if (serverOf(userId) !== serverName) {
          failures[serverOf(userId)] = { errcode: 'M_UNAVAILABLE', error: 'Federation is not available' };
          continue;
        }
        for (const [deviceId, algorithm] of Object.entries(devices)) {
          const key = (await takeOneTimeKey(sql, userId, deviceId, algorithm)) ?? (await useFallbackKey(sql, userId, deviceId, algorithm));
          if (!key) continue;
          ((one_time_keys[userId] ??= {})[deviceId] ??= {})[`${key.algorithm}:${key.key_id}`] = JSON.parse(key.key_json);
        }
      }
      return { one_time_keys, failures };
    },
  };
}

export type DeviceKeys = ReturnType<typeof createDeviceKeys>;
