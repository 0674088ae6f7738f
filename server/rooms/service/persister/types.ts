import type { SigningKey } from '../../../../federation/events/index.ts';
import type { JsonObject, Pdu } from '../../../../federation/events/pdu.ts';
import type { Registry } from 'prom-client';
import type { Sql } from '../../../db/database.ts';
import type { PublishDomainEvent } from '../../../domain-events/index.ts';
import type { Change, Notifier } from '../../../notifier/index.ts';
import type { RoomLocks } from '../room-lock.ts';
import type { RoomState } from '../room-state.ts';
import type { StoredEvent } from '../../storage/events.ts';
import type { TxnKey } from '../../storage/rooms.ts';
import type { RoomVersion } from '../../../../federation/room-versions.ts';
import type { GroupedState } from './state-before.ts';

/** A local user's event, before it is built: what the client-facing services ask for. */
export interface NewEvent {
  roomId: string;
  type: string;
  stateKey?: string;
  content: JsonObject;
  sender: string;
  /** v10 puts `redacts` at the top level; v11+ in content. Give it here for either. */
  redacts?: string;
  /**
   * The client's transaction: `txnId` is echoed to the sending device; `key` (default: txnId)
   * is what makes a retry idempotent. Per the spec a retry is the same txnId on the same
   * path, so callers put the path's variable parts (room, event type, target) in `key`.
   */
  txn?: { deviceId: string; txnId: string; key?: string };
}

export interface PersisterDeps {
  sql: Sql;
  serverName: string;
  signingKey: SigningKey;
  roomState: RoomState;
  notifier: Notifier;
  withRoomLock: RoomLocks;
  /** Domain events, published in the transaction that stores the event. */
  publish: PublishDomainEvent;
  /** Where the persister's metrics go (the homeserver's /metrics). */
  registry?: Registry;
}

/** What a client transaction is known by: the key when the path's parts make it, else the txnId. */
export const txnKeyOf = (txn: NonNullable<NewEvent['txn']>): string => txn.key ?? txn.txnId;

/** The stored key of an event's client transaction, if it has one. */
export function txnKeyOfEvent(ev: NewEvent): TxnKey | undefined {
  return ev.txn ? { userId: ev.sender, deviceId: ev.txn.deviceId, txnId: txnKeyOf(ev.txn) } : undefined;
}

/** A local event built and checked, not yet written; or the event its client transaction already stored. */
export type PreparedLocal =
  | { existing: StoredEvent }
  | {
      roomId: string;
      pdu: Pdu;
      version: RoomVersion;
      before: GroupedState;
      txn: NewEvent['txn'];
      /** The extremities it was built on and the stream position it takes, both read under the room lock. */
      local: { extremities: readonly string[]; streamPos: number };
    };

/** How the three checks of the server-server spec judged an event. */
export type Verdict = { outcome: 'accepted' } | { outcome: 'rejected'; reason: string } | { outcome: 'soft_failed'; reason: string };

/** What a remote server sent, and how it reached us. */
export interface RemoteEvent {
  pdu: Pdu;
  /** Stored without state (e.g. an auth event fetched for another event). */
  outlier?: boolean;
  /** Older history fetched by backfill: negative stream position, never in /sync, no extremity change. */
  backfilled?: boolean;
  /**
   * The state before the event when some prev events are missing (from /state_ids), so
   * the event can be persisted without them; they become backward extremities.
   */
  stateBefore?: ReadonlyMap<string, string>;
}

/** After commit: what to tell /sync. */
export type Changes = Change[];
