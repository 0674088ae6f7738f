import type { Tx } from '../../db/database.ts';

/** A device's published identity keys, as the canonical JSON it signed, and its display name. */
export interface DeviceKeysRow {
  user_id: string;
  device_id: string;
  key_json: string;
  display_name: string | null;
}

export async function getDeviceKeyJson(tx: Tx, userId: string, deviceId: string): Promise<string | undefined> {
  const [row] = await tx<{ key_json: string }[]>`
    select key_json from e2e_device_keys where user_id = ${userId} and device_id = ${deviceId}`;
  return row?.key_json;
}

/** Stores or replaces a device's keys; false when they were already exactly these. */
export async function putDeviceKeys(tx: Tx, userId: string, deviceId: string, keyJson: string): Promise<boolean> {
  const rows = await tx`
    insert into e2e_device_keys (user_id, device_id, key_json) values (${userId}, ${deviceId}, ${keyJson})
    on conflict (user_id, device_id) do update set key_json = excluded.key_json
      where e2e_device_keys.key_json <> excluded.key_json
    returning 1`;
  return rows.length > 0;
}

/** The keys of the given users' devices (all of a user's when their list is empty), with device names. */
export async function deviceKeysOf(tx: Tx, wanted: readonly { userId: string; deviceIds: readonly string[] }[]): Promise<DeviceKeysRow[]> {
  if (wanted.length === 0) return [];
  // One key per (user, device) pair; '' stands for "every device of the user".
  const users = wanted.flatMap((w) => (w.deviceIds.length === 0 ? [w.userId] : w.deviceIds.map(() => w.userId)));
  const devices = wanted.flatMap((w) => (w.deviceIds.length === 0 ? [''] : [...w.deviceIds]));
  return tx<DeviceKeysRow[]>`
    select k.user_id, k.device_id, k.key_json, d.display_name
    from unnest(${users}::text[], ${devices}::text[]) as w(user_id, device_id)
    join e2e_device_keys k on k.user_id = w.user_id and (w.device_id = '' or k.device_id = w.device_id)
    join devices d on d.user_id = k.user_id and d.device_id = k.device_id`;
}

export interface OneTimeKey {
  algorithm: string;
  key_id: string;
  key_json: string;
}

/** The stored one-time keys among `keys` (same ids), to tell a repeat from a conflicting re-upload. */
export async function existingOneTimeKeys(tx: Tx, userId: string, deviceId: string, keys: readonly OneTimeKey[]): Promise<OneTimeKey[]> {
  if (keys.length === 0) return [];
  return tx<OneTimeKey[]>`
    select o.algorithm, o.key_id, o.key_json
    from unnest(${keys.map((k) => k.algorithm)}::text[], ${keys.map((k) => k.key_id)}::text[]) as w(algorithm, key_id)
    join e2e_one_time_keys o on o.user_id = ${userId} and o.device_id = ${deviceId} and o.algorithm = w.algorithm and o.key_id = w.key_id`;
}

export async function insertOneTimeKeys(tx: Tx, userId: string, deviceId: string, keys: readonly OneTimeKey[]): Promise<void> {
  if (keys.length === 0) return;
  await tx`
    insert into e2e_one_time_keys (user_id, device_id, algorithm, key_id, key_json)
    select ${userId}::text, ${deviceId}::text, * from unnest(
      ${keys.map((k) => k.algorithm)}::text[], ${keys.map((k) => k.key_id)}::text[], ${keys.map((k) => k.key_json)}::text[])
    on conflict do nothing`;
}

/** A fallback key per algorithm: a new key id (or new content) replaces the old and is unused again. */
export async function putFallbackKeys(tx: Tx, userId: string, deviceId: string, keys: readonly OneTimeKey[]): Promise<void> {
  for (const k of keys) {
    await tx`
      insert into e2e_fallback_keys (user_id, device_id, algorithm, key_id, key_json)
      values (${userId}, ${deviceId}, ${k.algorithm}, ${k.key_id}, ${k.key_json})
      on conflict (user_id, device_id, algorithm) do update
        set key_id = excluded.key_id, key_json = excluded.key_json, used = false
        where e2e_fallback_keys.key_id <> excluded.key_id or e2e_fallback_keys.key_json <> excluded.key_json`;
  }
}

/**
 * Takes one one-time key of the algorithm from the device: each key is handed out once,
 * however many claim at the same moment (a claimer skips a key another is taking).
 */
export async function takeOneTimeKey(tx: Tx, userId: string, deviceId: string, algorithm: string): Promise<OneTimeKey | undefined> {
  const [row] = await tx<OneTimeKey[]>`
    delete from e2e_one_time_keys
    where (user_id, device_id, algorithm, key_id) = (
      select user_id, device_id, algorithm, key_id from e2e_one_time_keys
      where user_id = ${userId} and device_id = ${deviceId} and algorithm = ${algorithm}
      order by key_id limit 1
      for update skip locked)
    returning algorithm, key_id, key_json`;
  return row;
}

/** The device's fallback key of the algorithm, marked used (it is handed out again until replaced). */
export async function useFallbackKey(tx: Tx, userId: string, deviceId: string, algorithm: string): Promise<OneTimeKey | undefined> {
  const [row] = await tx<OneTimeKey[]>`
    update e2e_fallback_keys set used = true
    where user_id = ${userId} and device_id = ${deviceId} and algorithm = ${algorithm}
    returning algorithm, key_id, key_json`;
  return row;
}

export interface KeyCounts {
  /** One-time keys left, by algorithm. */
  oneTimeKeys: Record<string, number>;
  /** Algorithms with a fallback key not yet handed out. */
  unusedFallbackTypes: string[];
}

/** For several devices at once (the /sync passes of a tick), in order. */
export async function keyCountsOf(tx: Tx, devices: readonly { userId: string; deviceId: string }[]): Promise<KeyCounts[]> {
  if (devices.length === 0) return [];
  const rows = await tx<{ i: number; algorithm: string; n: number; fallback: boolean }[]>`
    select w.i::int as i, o.algorithm, count(*)::int as n, false as fallback
    from unnest(${devices.map((d) => d.userId)}::text[], ${devices.map((d) => d.deviceId)}::text[]) with ordinality as w(user_id, device_id, i)
    join e2e_one_time_keys o on o.user_id = w.user_id and o.device_id = w.device_id
    group by w.i, o.algorithm
    union all
    select w.i::int, f.algorithm, 0, true
    from unnest(${devices.map((d) => d.userId)}::text[], ${devices.map((d) => d.deviceId)}::text[]) with ordinality as w(user_id, device_id, i)
    join e2e_fallback_keys f on f.user_id = w.user_id and f.device_id = w.device_id and not f.used`;
  const out = devices.map((): KeyCounts => ({ oneTimeKeys: {}, unusedFallbackTypes: [] }));
  for (const r of rows) {
    const c = out[r.i - 1]!;
    if (r.fallback) c.unusedFallbackTypes.push(r.algorithm);
    else c.oneTimeKeys[r.algorithm] = r.n;
  }
  return out;
}
