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
  const [row] = await tx<PushRulesRow[]>`select rules, stream_pos from push_rules where user_id = ${userId}`;
  return row;
}

export async function putPushRules(tx: Tx, userId: string, rules: UserPushRules, streamPos: number): Promise<void> {
  await tx`insert into push_rules (user_id, rules, stream_pos) values (${userId}, ${tx.json(rules as never)}, ${streamPos})
    on conflict (user_id) do update set rules = excluded.rules, stream_pos = excluded.stream_pos`;
}
