import { byKeyIndex } from '../../db/batch.ts';
import type { Tx } from '../../db/database.ts';

export interface StateEntry {
  type: string;
  state_key: string;
  event_id: string;
}

/** Past this many deltas a group stores a full snapshot, bounding the cost of loading one. */
const MAX_CHAIN = 64;

export async function createStateGroup(
  tx: Tx,
  roomId: string,
  prev: { id: number; chainLen: number } | null,
  delta: StateEntry[],
  fullState: () => Promise<StateEntry[]>,
): Promise<number> {
  const snapshot = prev === null || prev.chainLen >= MAX_CHAIN;
  const entries = snapshot ? mergeEntries(prev ? await fullState() : [], delta) : delta;
  const [row] = await tx<{ id: number }[]>`
    insert into state_groups (room_id, prev_group, chain_len)
    values (${roomId}, ${snapshot ? null : prev!.id}, ${snapshot ? 0 : prev!.chainLen + 1}) returning id`;
  const id = row!.id;
  if (entries.length > 0) {
    await tx`insert into state_group_entries ${tx(entries.map((e) => ({ group_id: id, ...e })))}`;
  }
  return id;
}

function mergeEntries(base: StateEntry[], delta: StateEntry[]): StateEntry[] {
  const m = new Map(base.map((e) => [`${e.type}\u0000${e.state_key}`, e]));
  for (const e of delta) m.set(`${e.type}\u0000${e.state_key}`, e);
  return [...m.values()];
}

export async function stateGroupChainLen(tx: Tx, groupId: number): Promise<number> {
  const [row] = await tx<{ chain_len: number }[]>`select chain_len from state_groups where id = ${groupId}`;
  return row?.chain_len ?? 0;
}

/** The full state of a group: its entries over its ancestors', nearest first. */
export async function loadStateGroup(tx: Tx, groupId: number): Promise<StateEntry[]> {
  return (await stateGroupsEach(tx, [groupId]))[0]!;
}

/** The full state of each group, in the order asked, in one query for all of them. */
export async function stateGroupsEach(tx: Tx, groupIds: readonly number[]): Promise<StateEntry[][]> {
  if (groupIds.length === 0) return [];
  const rows = await tx<(StateEntry & { i: number })[]>`
    with recursive chain(i, id, prev, n) as (
      select s.i::int, g.id, g.prev_group, 0
      from unnest(${groupIds as number[]}::bigint[]) with ordinality as s(group_id, i) join state_groups g on g.id = s.group_id
      union all
      select c.i, g.id, g.prev_group, c.n + 1 from state_groups g join chain c on g.id = c.prev
    )
    select distinct on (c.i, e.type, e.state_key) c.i, e.type, e.state_key, e.event_id
    from state_group_entries e join chain c on e.group_id = c.id
    order by c.i, e.type, e.state_key, c.n`;
  return byKeyIndex(groupIds.length, rows).map((rs) => rs.map(({ i: _i, ...entry }) => entry));
}
