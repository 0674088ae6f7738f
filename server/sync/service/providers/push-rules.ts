import type { JsonObject } from '../../../../federation/events/pdu.ts';
import { blocksAll, matchesFilter } from '../../../matrix/index.ts';
import type { SyncPass } from './pass.ts';

/** m.push_rules as global account data: on initial sync, and when the rules changed in the window. */
export async function pushRulesProvider(pass: SyncPass): Promise<JsonObject[]> {
  const { viewer } = pass;
  if (blocksAll(pass.filter.account_data)) return [];
  const rules = await pass.src.pushRulesSince(pass.sql, viewer.userId, pass.since?.pos, pass.upTo.pos);
  if (!rules) return [];
  const event = { type: 'm.push_rules', content: rules };
  return matchesFilter(pass.filter.account_data, { ...event, sender: viewer.userId }) ? [event] : [];
}
