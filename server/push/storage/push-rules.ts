import { oneByKeyIndex } from '../../db/batch.ts';
import type { Tx } from '../../db/database.ts';
import type { UserPushRules } from '../service/ruleset.ts';

export interface PushRulesRow {
  rules: UserPushRules;
  stream_pos: number;
}

/** Serialises changes to one user's rules (the row may not exist yet, so a row lock is not enough). */
export async function lockPushRules(tx: Tx, userId: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`push_rules\n${userId}`}, 2))`;
}

export async function getPushRules(tx: Tx, userId: string): Promise<PushRulesRow | undefined> {
  return (await getPushRulesEach(tx, [userId]))[0];
}

/** The stored rules of each of several users (undefined for one who never changed any), in one query, in order. */
export async function getPushRulesEach(tx: Tx, userIds: readonly string[]): Promise<(PushRulesRow | undefined)[]> {
  if (userIds.length === 0) return [];
  const rows = await tx<(PushRulesRow & { i: number })[]>`
    select s.i::int as i, p.rules, p.stream_pos
    from unnest(${userIds as string[]}::text[]) with ordinality as s(user_id, i)
    join push_rules p on p.user_id = s.user_id`;
  return oneByKeyIndex(userIds.length, rows);
}

export async function putPushRules(tx: Tx, userId: string, rules: UserPushRules, streamPos: number): Promise<void> {
  await tx`insert into push_rules (user_id, rules, stream_pos) values (${userId}, ${tx.json(rules as never)}, ${streamPos})
    on conflict (user_id) do update set rules = excluded.rules, stream_pos = excluded.stream_pos`;
}
