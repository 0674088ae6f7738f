import type { JsonObject } from '../../../../federation/events/pdu.ts';
import { blocksAll, matchesFilter } from '../../../matrix/index.ts';
import type { SyncPass } from './pass.ts';

/** m.presence of the user and the users sharing a room with them, changed in the window. */
export async function presenceProvider(pass: SyncPass): Promise<JsonObject[]> {
  if (blocksAll(pass.filter.presence)) return [];
  const events = await pass.src.presenceSince(pass.sql, pass.viewer.userId, pass.since?.pos, pass.upTo.pos);
  return events.filter((e) => matchesFilter(pass.filter.presence, e as never));
}
