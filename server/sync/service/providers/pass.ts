import type { JsonObject } from '../../../../federation/events/pdu.ts';
import type { Sql } from '../../../db/database.ts';
import type { Filter } from '../../../matrix/index.ts';
import type { StreamPoint } from '../../../notifier/index.ts';
import type { Viewer } from '../room-sync.ts';
import type { SyncReads } from '../sources.ts';

/** What every provider reads of one /sync pass: who asks, the window (since, upTo], the filter. */
export interface SyncPass {
  sql: Sql;
  src: SyncReads;
  viewer: Viewer;
  since: StreamPoint | undefined;
  /** `since.pos`, or 0 for an initial sync. */
  sincePos: number;
  /** To-device messages at or below it were delivered and are acknowledged (undefined: initial sync). */
  toDeviceAcked: number | undefined;
  upTo: StreamPoint;
  filter: Filter;
  fullState: boolean;
  /** How many joined rooms are read at once. */
  roomsInParallel: number;
}

/**
 * A stream's contribution to each joined room of the response. `touched` is asked before the
 * events are built, so a room with nothing new is skipped without rendering anything.
 */
export interface RoomStream {
  touched(roomId: string): boolean;
  events(roomId: string): JsonObject[];
}

/** A stream the filter blocks whole: it adds nothing to any room, and touches none. */
export const BLOCKED: RoomStream = { touched: () => false, events: () => [] };

export function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
}
