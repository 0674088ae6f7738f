import type { Tx } from '../../db/database.ts';

/** Records that these users' devices or keys changed, at one stream position. */
export async function recordDeviceListChange(tx: Tx, userIds: readonly string[], pos: number): Promise<void> {
  if (userIds.length === 0) return;
  await tx`
    insert into device_list_changes (user_id, stream_pos)
    select distinct u, ${pos}::bigint from unnest(${userIds as string[]}::text[]) as u
    on conflict do nothing`;
}

/** For each window (since, upTo], in order: the users whose device list changed in it. */
export async function deviceListChangesEach(tx: Tx, windows: readonly { since: number; upTo: number }[]): Promise<string[][]> {
  if (windows.length === 0) return [];
  const rows = await tx<{ i: number; user_id: string }[]>`
    select distinct w.i::int as i, c.user_id
    from unnest(${windows.map((k) => k.since)}::bigint[], ${windows.map((k) => k.upTo)}::bigint[]) with ordinality as w(since, up_to, i)
    join device_list_changes c on c.stream_pos > w.since and c.stream_pos <= w.up_to`;
  const out = windows.map((): string[] => []);
  for (const r of rows) out[r.i - 1]!.push(r.user_id);
  return out;
}

/** Records that `signer` signed these users' keys (seen by the signer alone), at one stream position. */
export async function recordSignatureChange(tx: Tx, signer: string, targets: readonly string[], pos: number): Promise<void> {
  if (targets.length === 0) return;
  await tx`
    insert into signature_changes (signer_user_id, target_user_id, stream_pos)
    select ${signer}, t, ${pos}::bigint from unnest(${targets as string[]}::text[]) as t
    on conflict do nothing`;
}

/** For each (signer, since, upTo), in order: whose keys the signer signed in (since, upTo]. */
export async function signatureChangesEach(tx: Tx, keys: readonly { userId: string; since: number; upTo: number }[]): Promise<string[][]> {
  if (keys.length === 0) return [];
  const rows = await tx<{ i: number; target_user_id: string }[]>`
    select distinct k.i::int as i, c.target_user_id
    from unnest(${keys.map((k) => k.userId)}::text[], ${keys.map((k) => k.since)}::bigint[], ${keys.map((k) => k.upTo)}::bigint[])
      with ordinality as k(user_id, since, up_to, i)
    join signature_changes c on c.signer_user_id = k.user_id and c.stream_pos > k.since and c.stream_pos <= k.up_to`;
  const out = keys.map((): string[] => []);
  for (const r of rows) out[r.i - 1]!.push(r.target_user_id);
  return out;
}
