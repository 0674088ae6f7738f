/**
 * Checks 4–6 of the server-server spec's "Checks performed on receipt of a PDU",
 * as one pure function over plain data:
 *   4. the event passes the authorization rules based on its own auth events, else it is rejected;
 *   5. it passes them based on the state before the event, else it is rejected;
 *   6. it passes them based on the room's current state, else it is soft-failed.
 * Local events are built from the state before them, which is the current state,
 * so for them the three checks are one.
 */
import { checkEventAgainstAuthEvents, checkEventAuth } from '../../../../federation/auth/index.ts';
import type { Pdu } from '../../../../federation/events/pdu.ts';
import type { RoomVersion } from '../../../../federation/room-versions.ts';
import type { Verdict } from './types.ts';

export type StateLookup = (type: string, stateKey: string) => Pdu | undefined;

export interface ReceivedEventContext {
  /** The events named in auth_events (and, for v12, the create event), by id. */
  authEvents: ReadonlyMap<string, Pdu>;
  /** State before the event; undefined for an outlier (no state known). */
  stateBefore?: StateLookup | undefined;
  /** The room's current state; undefined to skip check 6 (backfilled or outlier events). */
  currentState?: StateLookup | undefined;
  isRejected?: (eventId: string) => boolean;
}

export function checkReceivedEvent(event: Pdu, ctx: ReceivedEventContext, version: RoomVersion): Verdict {
  const own = checkEventAgainstAuthEvents(event, ctx.authEvents, version, ctx.isRejected ? { isRejected: ctx.isRejected } : {});
  if (!own.allowed) return { outcome: 'rejected', reason: `auth events: ${own.reason}` };
  if (ctx.stateBefore) {
    const before = checkEventAuth(event, ctx.stateBefore, version);
    if (!before.allowed) return { outcome: 'rejected', reason: `state before: ${before.reason}` };
  }
  if (ctx.currentState) {
    const now = checkEventAuth(event, ctx.currentState, version);
    if (!now.allowed) return { outcome: 'soft_failed', reason: `current state: ${now.reason}` };
  }
  return { outcome: 'accepted' };
}
