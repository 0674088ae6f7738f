import type { Tx } from '../../db/database.ts';

export interface PusherRow {
  user_id: string;
  device_id: string;
  app_id: string;
  pushkey: string;
  kind: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag: string | null;
  lang: string;
  data: Record<string, unknown>;
  created_ts: number;
}

export async function pushersOf(tx: Tx, userIds: readonly string[]): Promise<PusherRow[]> {
  if (userIds.length === 0) return [];
  return tx<PusherRow[]>`
    select user_id, device_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data, created_ts::bigint as created_ts
    from pushers where user_id = any(${userIds as string[]}::text[]) order by created_ts, app_id, pushkey`;
}

/** Adds or replaces the user's pusher for (app_id, pushkey). */
export async function putPusher(tx: Tx, p: PusherRow): Promise<void> {
  await tx`
    insert into pushers (user_id, device_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data, created_ts)
    values (${p.user_id}, ${p.device_id}, ${p.app_id}, ${p.pushkey}, ${p.kind}, ${p.app_display_name}, ${p.device_display_name},
      ${p.profile_tag}, ${p.lang}, ${tx.json(p.data as never)}, ${p.created_ts})
    on conflict (app_id, pushkey, user_id) do update set device_id = excluded.device_id, kind = excluded.kind,
      app_display_name = excluded.app_display_name, device_display_name = excluded.device_display_name,
      profile_tag = excluded.profile_tag, lang = excluded.lang, data = excluded.data`;
}

/** `append: false`: another user's pusher of the same app and key goes (one device, one account). */
export async function deletePushersOfKeyForOthers(tx: Tx, appId: string, pushkey: string, userId: string): Promise<void> {
  await tx`delete from pushers where app_id = ${appId} and pushkey = ${pushkey} and user_id <> ${userId}`;
}

export async function deletePusher(tx: Tx, userId: string, appId: string, pushkey: string): Promise<void> {
  await tx`delete from pushers where user_id = ${userId} and app_id = ${appId} and pushkey = ${pushkey}`;
}

export interface DeliveryRow {
  id: number;
  user_id: string;
  app_id: string;
  pushkey: string;
  event_id: string;
  room_id: string;
  attempts: number;
}

/** Queues a notification for each of the users' HTTP pushers. */
export async function queueDeliveries(
  tx: Tx,
  items: readonly { userId: string; eventId: string; roomId: string }[],
  now: number,
): Promise<number> {
  if (items.length === 0) return 0;
  const rows = await tx`
    insert into push_deliveries (user_id, app_id, pushkey, event_id, room_id, next_attempt_ts)
    select p.user_id, p.app_id, p.pushkey, w.event_id, w.room_id, ${now}::bigint
    from unnest(${items.map((i) => i.userId)}::text[], ${items.map((i) => i.eventId)}::text[], ${items.map((i) => i.roomId)}::text[])
      as w(user_id, event_id, room_id)
    join pushers p on p.user_id = w.user_id and p.kind = 'http'
    on conflict do nothing
    returning 1`;
  return rows.length;
}

/**
 * Claims the due deliveries until `leaseUntil`: one per pusher, its oldest, so a gateway gets a
 * pusher's notifications in order. A claim is not held in a transaction while the gateway is
 * asked; a process that dies holding one leaves it to be claimed again when the lease ends.
 */
export async function claimDueDeliveries(tx: Tx, now: number, leaseUntil: number, limit: number): Promise<DeliveryRow[]> {
  return tx<DeliveryRow[]>`
    update push_deliveries set next_attempt_ts = ${leaseUntil}
    where id in (
      select id from push_deliveries d
      where next_attempt_ts <= ${now} and id = (
        select min(id) from push_deliveries o where o.app_id = d.app_id and o.pushkey = d.pushkey and o.user_id = d.user_id)
      order by id limit ${limit}
      for update skip locked)
    returning id::bigint as id, user_id, app_id, pushkey, event_id, room_id, attempts`;
}

export async function deleteDelivery(tx: Tx, id: number): Promise<void> {
  await tx`delete from push_deliveries where id = ${id}`;
}

export async function deferDelivery(tx: Tx, id: number, nextAttemptTs: number, error: string): Promise<void> {
  await tx`update push_deliveries set attempts = attempts + 1, next_attempt_ts = ${nextAttemptTs}, last_error = ${error} where id = ${id}`;
}

/** When the next delivery falls due (undefined: none queued). */
export async function nextDueTs(tx: Tx): Promise<number | undefined> {
  const [row] = await tx<{ ts: number | null }[]>`select min(next_attempt_ts)::bigint as ts from push_deliveries`;
  return row?.ts ?? undefined;
}
