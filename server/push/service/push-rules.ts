import { batchedOn, direct, type KeyedReads } from '../../db/batch.ts';
import { transaction } from '../../db/transaction.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql, Tx } from '../../db/database.ts';
import { nextStreamPosition } from '../../db/stream.ts';
import type { Notifier } from '../../notifier/index.ts';
import type { PushAction, PushRule, RuleKind, Ruleset } from '../default-rules.ts';
import { getPushRules, getPushRulesEach, lockPushRules, putPushRules } from '../storage/push-rules.ts';
import {
  changeRule,
  copyRoomRules,
  deleteRule,
  effectiveRuleset,
  emptyUserRules,
  findRule,
  putRule,
  type NewRule,
  type UserPushRules,
} from './ruleset.ts';

/** Push rules per user: read merged with the defaults, changed under a lock, announced to /sync. */
export function createPushRules({ sql, notifier }: { sql: Sql; notifier: Notifier }) {
  async function load(tx: Tx, userId: string): Promise<UserPushRules> {
    return (await getPushRules(tx, userId))?.rules ?? emptyUserRules();
  }

  /** Edits the user's rules under their lock; an edit that returns undefined changes nothing (no write, no wake-up). */
  async function change(userId: string, edit: (doc: UserPushRules) => UserPushRules | undefined): Promise<void> {
    const pos = await transaction(sql, async (tx) => {
      await lockPushRules(tx, userId);
      const next = edit(await load(tx, userId));
      if (!next) return undefined;
      const p = await nextStreamPosition(tx);
      await putPushRules(tx, userId, next, p);
      return p;
    });
    if (pos !== undefined) notifier.notify({ pos, userIds: [userId] });
  }

  return {
    async ruleset(userId: string): Promise<Ruleset> {
      return effectiveRuleset(userId, await load(sql, userId));
    },

    /** Several users' rulesets in one read, in order (an event is judged by every member's). */
    async rulesets(userIds: readonly string[]): Promise<Ruleset[]> {
      const rows = await getPushRulesEach(sql, userIds);
      return userIds.map((u, i) => effectiveRuleset(u, rows[i]?.rules ?? emptyUserRules()));
    },

    async rule(userId: string, kind: RuleKind, ruleId: string): Promise<PushRule> {
      return findRule(userId, await load(sql, userId), kind, ruleId);
    },

    putRule: (
      userId: string,
      kind: RuleKind,
      ruleId: string,
      rule: NewRule,
      place: { before?: string | undefined; after?: string | undefined },
    ) => change(userId, (doc) => putRule(doc, kind, ruleId, rule, place)),

    deleteRule: (userId: string, kind: RuleKind, ruleId: string) => change(userId, (doc) => deleteRule(userId, doc, kind, ruleId)),

    setEnabled: (userId: string, kind: RuleKind, ruleId: string, enabled: boolean) =>
      change(userId, (doc) => changeRule(userId, doc, kind, ruleId, { enabled })),

    setActions: (userId: string, kind: RuleKind, ruleId: string, actions: PushAction[]) =>
      change(userId, (doc) => changeRule(userId, doc, kind, ruleId, { actions })),

    /**
     * Carries the user's rules about an upgraded room over to its successor. A user without stored
     * rules (a remote user, or one who never changed any) has nothing to carry, and nothing is written.
     */
    copyRoomRules: (userId: string, from: string, to: string) => change(userId, (doc) => copyRoomRules(doc, from, to)),

    /**
     * The m.push_rules account data content for /sync: always on an initial sync
     * (`since` undefined), otherwise only when the rules changed in (since, upTo].
     */
    pushRulesSince: pushRulesSinceOver(direct),
    /** The same read for /sync passes batched per tick (the passes one event woke read it as one). */
    batched: () => ({ pushRulesSince: pushRulesSinceOver(batchedOn(sql)) }),
  };
}

export type PushRules = ReturnType<typeof createPushRules>;

function pushRulesSinceOver(k: KeyedReads) {
  const rulesOf = k.one((u: string) => u, getPushRulesEach);
  return async (tx: Tx, userId: string, since: number | undefined, upTo: number): Promise<JsonObject | undefined> => {
    const row = await rulesOf(tx, userId);
    if (since !== undefined && (!row || row.stream_pos <= since || row.stream_pos > upTo)) return undefined;
    return { global: effectiveRuleset(userId, row?.rules ?? emptyUserRules()) } as unknown as JsonObject;
  };
}
