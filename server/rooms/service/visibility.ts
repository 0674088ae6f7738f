import { stateKey } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';
import type { StoredEvent } from '../storage/events.ts';
import { isEventVisible, parseHistoryVisibility, type HistoryVisibility } from './history-visibility.ts';
import type { RoomState } from './room-state.ts';
import { directReads, type StreamReads } from './stream-reads.ts';

export type { HistoryVisibility } from './history-visibility.ts';

/** How far back a user's membership chain is followed to find their latest join. */
const MAX_MEMBERSHIP_STEPS = 100;

/**
 * History visibility: gathers, per event, what the spec's rules look at (the
 * state before the event, the user's membership then, whether they joined
 * later) and leaves the verdict to the pure `isEventVisible`.
 */
export function createVisibility(roomState: RoomState, reads: StreamReads = directReads) {
  const currentMember = (tx: Tx, roomId: string, userId: string) =>
    reads.currentStateEvent(tx, { roomId, type: 'm.room.member', stateKey: userId });

  async function membershipAt(tx: Tx, groupId: number | null, userId: string): Promise<string | undefined> {
    const id = (await roomState.stateIds(tx, groupId)).get(stateKey('m.room.member', userId));
    if (!id) return undefined;
    const ev = await roomState.loadEvent(tx, id);
    return typeof ev?.pdu.content.membership === 'string' ? ev.pdu.content.membership : undefined;
  }

  async function visibilityAt(tx: Tx, groupId: number | null): Promise<HistoryVisibility> {
    const id = (await roomState.stateIds(tx, groupId)).get(stateKey('m.room.history_visibility', ''));
    if (!id) return 'shared';
    return parseHistoryVisibility((await roomState.loadEvent(tx, id))?.pdu.content.history_visibility);
  }

  async function currentMembership(tx: Tx, roomId: string, userId: string): Promise<string | undefined> {
    const id = await currentMember(tx, roomId, userId);
    if (!id) return undefined;
    const m = (await roomState.loadEvent(tx, id))?.pdu.content.membership;
    return typeof m === 'string' ? m : undefined;
  }

  /**
   * Stream position of the user's newest join to the room (undefined: never joined).
   * Walks back from the current member event through `replaces_state`: the chain
   * from the newest join to now is short (a leave, a ban, an invite), and cached.
   */
  async function latestJoinPos(tx: Tx, roomId: string, userId: string): Promise<number | undefined> {
    let id: string | undefined = await currentMember(tx, roomId, userId);
    for (let step = 0; id && step < MAX_MEMBERSHIP_STEPS; step++) {
      const ev = await roomState.loadEvent(tx, id);
      if (!ev) return undefined;
      if (ev.pdu.content.membership === 'join') return ev.streamPos;
      const prev = ev.pdu.unsigned?.replaces_state;
      id = typeof prev === 'string' ? prev : undefined;
    }
    return undefined;
  }

  async function canSee(tx: Tx, userId: string, e: StoredEvent, latestJoin: () => Promise<number | undefined>): Promise<boolean> {
    const visibilityBefore = await visibilityAt(tx, e.stateGroupBefore);
    const ownMembership = e.pdu.type === 'm.room.member' && e.pdu.state_key === userId;
    const visibilityAfter =
      e.pdu.type === 'm.room.history_visibility' && e.pdu.state_key === ''
        ? parseHistoryVisibility(e.pdu.content.history_visibility)
        : undefined;
    const membershipBefore = await membershipAt(tx, e.stateGroupBefore, userId);
    const facts = { visibilityBefore, visibilityAfter, membershipBefore, ownMembership, joinedLater: false };
    if (isEventVisible(facts)) return true;
    // Only `shared` history depends on a later join; look it up only then.
    if (visibilityBefore !== 'shared' && visibilityAfter !== 'shared') return false;
    const join = await latestJoin();
    return join !== undefined && join > e.streamPos && isEventVisible({ ...facts, joinedLater: true });
  }

  function latestJoinOnce(tx: Tx, userId: string) {
    const cache = new Map<string, Promise<number | undefined>>();
    return (roomId: string) => () => {
      let p = cache.get(roomId);
      if (!p) cache.set(roomId, (p = latestJoinPos(tx, roomId, userId)));
      return p;
    };
  }

  return {
    currentMembership,
    visibilityAt,
    /** The events the user may see, in the order given. */
    async filter(tx: Tx, userId: string, events: StoredEvent[]): Promise<StoredEvent[]> {
      const latestJoin = latestJoinOnce(tx, userId);
      const out: StoredEvent[] = [];
      for (const e of events) if (await canSee(tx, userId, e, latestJoin(e.roomId))) out.push(e);
      return out;
    },
    async canSeeEvent(tx: Tx, userId: string, e: StoredEvent): Promise<boolean> {
      return canSee(tx, userId, e, latestJoinOnce(tx, userId)(e.roomId));
    },
  };
}

export type Visibility = ReturnType<typeof createVisibility>;
