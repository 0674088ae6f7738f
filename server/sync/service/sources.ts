import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';
import type { E2eeSyncReads } from '../../e2ee/index.ts';
import type { PushCountReads } from '../../push/index.ts';
import type { RoomStreams } from '../../rooms/index.ts';

/** What a /sync pass reads: the room engine's streams, plus push rules, presence and E2EE from their components. */
export interface SyncReads extends Omit<RoomStreams, 'batched'>, E2eeSyncReads, PushCountReads {
  /** m.push_rules content: always when `since` is undefined (initial sync), else only if changed in (since, upTo]. */
  pushRulesSince(tx: Tx, userId: string, since: number | undefined, upTo: number): Promise<JsonObject | undefined>;
  /** m.presence events of the user and of users sharing a room with them, changed in (since, upTo]. */
  presenceSince(tx: Tx, userId: string, since: number | undefined, upTo: number): Promise<JsonObject[]>;
}

export interface SyncSources extends SyncReads {
  /**
   * The same reads through loaders: those asked in one tick (the rooms of a pass, the passes one
   * event woke) go to the database as one query per kind, on the pool.
   */
  batched(): SyncReads;
}
