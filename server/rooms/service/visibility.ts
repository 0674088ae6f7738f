import { stateKey } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';
import type { StoredEvent } from '../storage/events.ts';
import { currentStateEvent } from '../storage/rooms.ts';
import type { RoomState } from './room-state.ts';

export type HistoryVisibility = 'world_readable' | 'shared' | 'invited' | 'joined';

/**
 * History visibility as the spec defines it: whether `userId` may see an event
 * depends on the room's history_visibility and the user's membership *at that
 * event* (the state before it; for the user's own membership event, the
 * membership it sets). `shared` also opens everything to current members.
 */
export function createVisibility(roomState: RoomState) {
  async function membershipAt(tx: Tx, groupId: number | null, userId: string): Promise<string | undefined> {
    const id = (await roomState.stateIds(tx, groupId)).get(stateKey('m.room.member', userId));
    if (!id) return undefined;
    const ev = await roomState.loadEvent(tx, id);
    return typeof ev?.pdu.content.membership === 'string' ? ev.pdu.content.membership : undefined;
  }

  async function visibilityAt(tx: Tx, groupId: number | null): Promise<HistoryVisibility> {
    const id = (await roomState.stateIds(tx, groupId)).get(stateKey('m.room.history_visibility', ''));
    if (!id) return 'shared';
    const v = (await roomState.loadEvent(tx, id))?.pdu.content.history_visibility;
    return v === 'world_readable' || v === 'invited' || v === 'joined' || v === 'shared' ? v : 'shared';
  }

  async function currentMembership(tx: Tx, roomId: string, userId: string): Promise<string | undefined> {
    const id = await currentStateEvent(tx, roomId, 'm.room.member', userId);
    if (!id) return undefined;
    const m = (await roomState.loadEvent(tx, id))?.pdu.content.membership;
    return typeof m === 'string' ? m : undefined;
  }

  async function canSee(tx: Tx, userId: string, e: StoredEvent, joinedNow: () => Promise<boolean>): Promise<boolean> {
    const visibility = await visibilityAt(tx, e.stateGroupBefore);
    if (visibility === 'world_readable') return true;
    const own = e.pdu.type === 'm.room.member' && e.pdu.state_key === userId;
    const membership = own ? (e.pdu.content.membership as string) : await membershipAt(tx, e.stateGroupBefore, userId);
    if (membership === 'join') return true;
    if (own && (membership === 'invite' || membership === 'knock' || membership === 'leave' || membership === 'ban')) return true;
    if (visibility === 'invited' && membership === 'invite') return true;
    if (visibility === 'shared') return joinedNow();
    return false;
  }

  return {
    currentMembership,
    visibilityAt,
    /** The events the user may see, in the order given. */
    async filter(tx: Tx, userId: string, events: StoredEvent[]): Promise<StoredEvent[]> {
      const joined = new Map<string, Promise<boolean>>();
      const joinedNow = (roomId: string) => () => {
        let p = joined.get(roomId);
        if (!p) {
          p = currentMembership(tx, roomId, userId).then((m) => m === 'join');
          joined.set(roomId, p);
        }
        return p;
      };
      const out: StoredEvent[] = [];
      for (const e of events) if (await canSee(tx, userId, e, joinedNow(e.roomId))) out.push(e);
      return out;
    },
    async canSeeEvent(tx: Tx, userId: string, e: StoredEvent): Promise<boolean> {
      return canSee(tx, userId, e, () => currentMembership(tx, e.roomId, userId).then((m) => m === 'join'));
    },
  };
}

export type Visibility = ReturnType<typeof createVisibility>;
