import type { Tx } from '../../db/database.ts';

export interface ToDeviceRow {
  user_id: string;
  device_id: string;
  sender: string;
  type: string;
  content: string;
}

/**
 * Records the transaction id of a sendToDevice; false when that device already sent it (the
 * messages went out then, and must not go twice).
 */
export async function claimToDeviceTxn(tx: Tx, userId: string, deviceId: string, txnId: string): Promise<boolean> {
  const rows = await tx`
    insert into to_device_txns (user_id, device_id, txn_id) values (${userId}, ${deviceId}, ${txnId})
    on conflict do nothing returning 1`;
  return rows.length > 0;
}

/** The devices of these users (all their devices, for a "*" recipient). */
export async function devicesOfUsers(tx: Tx, userIds: readonly string[]): Promise<{ user_id: string; device_id: string }[]> {
  if (userIds.length === 0) return [];
  return tx<{ user_id: string; device_id: string }[]>`
    select user_id, device_id from devices where user_id = any(${userIds as string[]}::text[])`;
}

/** Queues messages at one stream position; a recipient device that no longer exists is skipped. */
export async function queueToDevice(tx: Tx, pos: number, rows: readonly ToDeviceRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await tx`
    insert into to_device_messages (user_id, device_id, stream_pos, sender, type, content)
    select w.user_id, w.device_id, ${pos}::bigint, w.sender, w.type, w.content
    from unnest(${rows.map((r) => r.user_id)}::text[], ${rows.map((r) => r.device_id)}::text[], ${rows.map((r) => r.sender)}::text[],
      ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.content)}::text[]) as w(user_id, device_id, sender, type, content)
    join devices d on d.user_id = w.user_id and d.device_id = w.device_id
    on conflict do nothing
    returning 1`;
  return inserted.length;
}

export interface ToDeviceWindow {
  userId: string;
  deviceId: string;
  /** Everything at or below it was delivered and is acknowledged: deleted. */
  acked: number;
  upTo: number;
  limit: number;
}

export interface PendingToDevice {
  stream_pos: number;
  sender: string;
  type: string;
  content: string;
}

/** Drops what the device acknowledged. */
export async function deleteAckedToDevice(tx: Tx, windows: readonly ToDeviceWindow[]): Promise<void> {
  if (windows.length === 0) return;
  await tx`
    delete from to_device_messages m
    using unnest(${windows.map((w) => w.userId)}::text[], ${windows.map((w) => w.deviceId)}::text[], ${windows.map((w) => w.acked)}::bigint[])
      as w(user_id, device_id, acked)
    where m.user_id = w.user_id and m.device_id = w.device_id and m.stream_pos <= w.acked`;
}

/** For each window, in order: the device's oldest messages in (acked, upTo], at most `limit` (+1, to tell there are more). */
export async function pendingToDevice(tx: Tx, windows: readonly ToDeviceWindow[]): Promise<PendingToDevice[][]> {
  if (windows.length === 0) return [];
  const rows = await tx<(PendingToDevice & { i: number })[]>`
    select w.i::int as i, m.stream_pos::bigint as stream_pos, m.sender, m.type, m.content
    from unnest(${windows.map((w) => w.userId)}::text[], ${windows.map((w) => w.deviceId)}::text[], ${windows.map((w) => w.acked)}::bigint[],
      ${windows.map((w) => w.upTo)}::bigint[], ${windows.map((w) => w.limit + 1)}::int[]) with ordinality as w(user_id, device_id, acked, up_to, lim, i)
    cross join lateral (
      select stream_pos, sender, type, content from to_device_messages
      where user_id = w.user_id and device_id = w.device_id and stream_pos > w.acked and stream_pos <= w.up_to
      order by stream_pos limit w.lim) m
    order by i, stream_pos`;
  const out = windows.map((): PendingToDevice[] => []);
  for (const { i, ...r } of rows) out[i - 1]!.push({ ...r, stream_pos: Number(r.stream_pos) });
  return out;
}

/** Forgets to-device transaction ids older than `keptMs`, at most `limit` at a time; how many went. */
export async function pruneToDeviceTxns(tx: Tx, keptMs: number, limit: number): Promise<number> {
  const rows = await tx`
    delete from to_device_txns where (user_id, device_id, txn_id) in (
      select user_id, device_id, txn_id from to_device_txns
      where created_at < now() - ${keptMs}::bigint * interval '1 millisecond' limit ${limit})`;
  return rows.count;
}
