import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';

export async function insertFilter(tx: Tx, userId: string, filter: JsonObject): Promise<string> {
  const [row] = await tx<{ filter_id: number }[]>`
    insert into user_filters (user_id, filter) values (${userId}, ${tx.json(filter)}) returning filter_id`;
  return String(row!.filter_id);
}

export async function getFilter(tx: Tx, userId: string, filterId: string): Promise<JsonObject | undefined> {
  if (!/^\d{1,15}$/.test(filterId)) return undefined;
  const [row] = await tx<{ filter: JsonObject }[]>`
    select filter from user_filters where user_id = ${userId} and filter_id = ${Number(filterId)}`;
  return row?.filter;
}
