import type { JsonObject } from '../../federation/events/pdu.ts';
import type { Tx } from '../db/database.ts';
import type { ClientEvent } from './service/client-event.ts';
import type { LoadedState } from './service/room-state.ts';
import type { StoredEvent } from './storage/events.ts';
import type { ReceiptRow } from './storage/receipts.ts';

/** The stream API of the room engine: what /sync reads of rooms (and of accounts, handed through). */
export interface RoomStreams {
  memberships(tx: Tx, userId: string): Promise<Array<{ room_id: string; membership: string; event_id: string; stream_pos: number }>>;
  forgotten(tx: Tx, userId: string): Promise<Set<string>>;
  loadEvent(tx: Tx, eventId: string): Promise<StoredEvent | undefined>;
  loadEvents(tx: Tx, eventIds: readonly string[]): Promise<Map<string, StoredEvent>>;
  loadState(tx: Tx, group: number | null): Promise<LoadedState>;
  /** Newest-first events of a room in (after, upTo]. */
  recentEvents(tx: Tx, roomId: string, after: number, upTo: number, limit: number): Promise<StoredEvent[]>;
  /** The room's newest event at or before a position (to find the state then). */
  eventAtOrBefore(tx: Tx, roomId: string, pos: number): Promise<StoredEvent | undefined>;
  roomsWithEventsSince(tx: Tx, roomIds: readonly string[], since: number, upTo: number): Promise<string[]>;
  filterVisible(tx: Tx, userId: string, events: StoredEvent[]): Promise<StoredEvent[]>;
  serialize(tx: Tx, events: StoredEvent[], viewer: { userId: string; deviceId?: string }, bundle?: boolean): Promise<ClientEvent[]>;
  receiptsSince(tx: Tx, roomIds: readonly string[], since: number, upTo: number): Promise<ReceiptRow[]>;
  /** The user's read receipt positions in each room, by thread ('' unthreaded, 'main', or a thread root). */
  readPositions(tx: Tx, roomIds: readonly string[], userId: string): Promise<Map<string, Record<string, number>>>;
  accountDataSince(
    tx: Tx,
    userId: string,
    since: number,
  ): Promise<Array<{ room_id: string; type: string; content: JsonObject; stream_pos: number }>>;
  ignoredUsers(tx: Tx, userId: string): Promise<Set<string>>;
  typingSince(roomId: string, since: number): string[] | undefined;
  /**
   * The same streams with the reads made once per room (timeline, unread count, membership,
   * bundled relations) batched: those asked in one tick go to the database as one query, through
   * the pool (the `tx` given is not used). For passes that render many rooms at once.
   */
  batched(): RoomStreams;
}
