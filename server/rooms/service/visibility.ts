import { stateKey } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';
import type { StoredEvent } from '../storage/events.ts';
import { isEventVisible, parseHistoryVisibility, type HistoryVisibility } from './history-visibility.ts';
import type { CachedReads } from './room-state.ts';
import { directReads, type StreamReads } from './stream-reads.ts';

export type { HistoryVisibility } from './history-visibility.ts';

/** How far back a user's membership chain is followed to find their latest join. */
const MAX_MEMBERSHIP_STEPS = 100;

const HISTORY_VISIBILITY = stateKey('m.room.history_visibility', '');

interface StateFacts {
  visibilityBefore: HistoryVisibility;
  membershipBefore: string | undefined;
}

/**
 * History visibility: gathers, per event, what the spec's rules look at (the
 * state before the event, the user's membership then, whether they joined
 * later) and leaves the verdict to the pure `isEventVisible`.
 */
export function createVisibility(roomState: CachedReads, reads: StreamReads = directReads) {
  const currentMember = (tx: Tx, roomId: string, userId: string) =>
    reads.currentStateEvent(tx, { roomId, type: 'm.room.member', stateKey: userId });

  async function visibilityAt(tx: Tx, groupId: number | null): Promise<HistoryVisibility> {
    const id = (await roomState.stateIds(tx, groupId)).get(HISTORY_VISIBILITY);
    if (!id) return 'shared';
    return parseHistoryVisibility((await roomState.loadEvent(tx, id))?.pdu.content.history_visibility);
  }

  /** The history visibility and the user's membership in one state: what every event sent in it is judged by. */
  async function factsAt(tx: Tx, groupId: number | null, userId: string): Promise<StateFacts> {
    const ids = await roomState.stateIds(tx, groupId);
    const visibilityId = ids.get(HISTORY_VISIBILITY);
    const memberId = ids.get(stateKey('m.room.member', userId));
    const loaded = await roomState.loadEvents(
      tx,
      [visibilityId, memberId].filter((id) => id !== undefined),
    );
    const membership = memberId === undefined ? undefined : loaded.get(memberId)?.pdu.content.membership;
    return {
      visibilityBefore:
        visibilityId === undefined ? 'shared' : parseHistoryVisibility(loaded.get(visibilityId)?.pdu.content.history_visibility),
      membershipBefore: typeof membership === 'string' ? membership : undefined,
    };
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

  /**
   * Which of `events` the user may see. The facts of each state group are gathered once, all
   * together (a room's messages mostly share the state before them), and the user's latest
   * join once per room, only for `shared` history that their membership then does not show.
   */
  async function visibleOf(tx: Tx, userId: string, events: readonly StoredEvent[]): Promise<boolean[]> {
    const groups = [...new Set(events.map((e) => e.stateGroupBefore))];
    const facts = new Map(await Promise.all(groups.map(async (g) => [g, await factsAt(tx, g, userId)] as const)));
    const joins = new Map<string, Promise<number | undefined>>();
    const latestJoin = (roomId: string) => {
      let p = joins.get(roomId);
      if (!p) joins.set(roomId, (p = latestJoinPos(tx, roomId, userId)));
      return p;
    };
    const out: boolean[] = [];
    for (const e of events) {
      const { visibilityBefore, membershipBefore } = facts.get(e.stateGroupBefore)!;
      const ownMembership = e.pdu.type === 'm.room.member' && e.pdu.state_key === userId;
      const visibilityAfter =
        e.pdu.type === 'm.room.history_visibility' && e.pdu.state_key === ''
          ? parseHistoryVisibility(e.pdu.content.history_visibility)
          : undefined;
      const verdict = { visibilityBefore, visibilityAfter, membershipBefore, ownMembership, joinedLater: false };
      if (isEventVisible(verdict)) out.push(true);
      // Only `shared` history depends on a later join; look it up only then.
      else if (visibilityBefore !== 'shared' && visibilityAfter !== 'shared') out.push(false);
      else {
        const join = await latestJoin(e.roomId);
        out.push(join !== undefined && join > e.streamPos && isEventVisible({ ...verdict, joinedLater: true }));
      }
    }
    return out;
  }

  return {
    currentMembership,
    visibilityAt,
    /** The events the user may see, in the order given. */
    async filter(tx: Tx, userId: string, events: StoredEvent[]): Promise<StoredEvent[]> {
      const visible = await visibleOf(tx, userId, events);
      return events.filter((_, i) => visible[i]);
    },
    canSeeEvent: async (tx: Tx, userId: string, e: StoredEvent): Promise<boolean> => (await visibleOf(tx, userId, [e]))[0]!,
  };
}

export type Visibility = ReturnType<typeof createVisibility>;
