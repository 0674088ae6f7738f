import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import type { Filter } from '../../matrix/index.ts';
import { matchesFilter } from '../../matrix/index.ts';
import type { ReceiptRow } from '../../rooms/index.ts';
import type { Notifier, StreamPoint } from '../../notifier/index.ts';
import { roomSummary, syncRoomTimeline, type Viewer } from './room-sync.ts';
import type { SyncSources } from './sources.ts';
import { STRIPPED_STATE_TYPES, strippedStateEvent } from './stripped-state.ts';
import { formatSyncToken } from './sync-token.ts';

export interface SyncRequest {
  since?: StreamPoint | undefined;
  timeoutMs: number;
  fullState: boolean;
  filter: Filter;
  signal?: AbortSignal | undefined;
}

export interface SyncDeps {
  sql: Sql;
  notifier: Notifier;
  sources: SyncSources;
}

/** /sync v2: one pass computes everything after `since`; an empty pass waits for the notifier. */
export function createSync({ sql, notifier, sources: src }: SyncDeps) {
  async function once(viewer: Viewer, req: SyncRequest, upTo: StreamPoint) {
    const since = req.since;
    const sincePos = since?.pos ?? 0;
    const ignored = await src.ignoredUsers(sql, viewer.userId);
    const memberships = await src.memberships(sql, viewer.userId);
    const forgotten = await src.forgotten(sql, viewer.userId);
    const filter = req.filter;
    const roomSelector = { rooms: filter.room?.rooms, not_rooms: filter.room?.not_rooms };
    const wanted = memberships.filter(
      (m) => m.stream_pos <= upTo.pos && matchesFilter(roomSelector, { type: '', sender: '', content: {} }, m.room_id),
    );
    const joinedIds = wanted.filter((m) => m.membership === 'join').map((m) => m.room_id);
    const withEvents = since ? new Set(await src.roomsWithEventsSince(sql, joinedIds, sincePos, upTo.pos)) : new Set(joinedIds);
    const receipts = groupBy(await src.receiptsSince(sql, joinedIds, since ? sincePos : 0, upTo.pos), (r) => r.room_id);
    const accountData = await src.accountDataSince(sql, viewer.userId, since ? sincePos : 0);
    const roomAccountData = groupBy(
      accountData.filter((a) => a.room_id !== '' && a.stream_pos <= upTo.pos),
      (a) => a.room_id,
    );
    const readPos = await src.readUpTo(sql, joinedIds, viewer.userId);

    // Response sections are plain JSON built from serialised events.
    const join: Record<string, unknown> = {};
    const invite: Record<string, unknown> = {};
    const leave: Record<string, unknown> = {};
    const knock: Record<string, unknown> = {};

    for (const m of wanted) {
      const newMembership = !since || m.stream_pos > sincePos;
      if (m.membership === 'join') {
        const fresh = req.fullState || newMembership;
        const typing = src.typingSince(m.room_id, since ? since.typing : -1);
        const rReceipts = receipts.get(m.room_id) ?? [];
        const rAccount = roomAccountData.get(m.room_id) ?? [];
        if (!fresh && !withEvents.has(m.room_id) && !typing && rReceipts.length === 0 && rAccount.length === 0) continue;
        const window = { roomId: m.room_id, after: fresh ? 0 : sincePos, upTo: upTo.pos, fresh, newlyJoined: !!since && newMembership };
        const { timeline, state, timelineEvents } =
          withEvents.has(m.room_id) || fresh
            ? await syncRoomTimeline(sql, src, viewer, window, filter, ignored)
            : { timeline: { events: [], limited: false, prev_batch: `s${upTo.pos}` }, state: { events: [] }, timelineEvents: [] };
        const membershipChanged = fresh || timelineEvents.some((e) => e.pdu.type === 'm.room.member');
        const ephemeral: JsonObject[] = [];
        if (typing && (typing.length > 0 || since)) ephemeral.push({ type: 'm.typing', content: { user_ids: typing } });
        const receiptEvent = receiptContent(rReceipts, viewer.userId);
        if (receiptEvent) ephemeral.push({ type: 'm.receipt', content: receiptEvent });
        const unreadAfter = readPos.get(m.room_id) ?? m.stream_pos;
        join[m.room_id] = {
          timeline,
          state,
          ephemeral: { events: ephemeral.filter((e) => matchesFilter(filter.room?.ephemeral, e as never, m.room_id)) },
          account_data: {
            events: rAccount
              .filter((a) => matchesFilter(filter.room?.account_data, a as never, m.room_id))
              .map((a) => ({ type: a.type, content: a.content })),
          },
          ...(membershipChanged ? { summary: await roomSummary(sql, src, m.room_id, upTo.pos, viewer.userId) } : {}),
          unread_notifications: {
            notification_count: await src.countUnread(sql, m.room_id, viewer.userId, unreadAfter, upTo.pos),
            highlight_count: 0,
          },
        };
      } else if ((m.membership === 'invite' || m.membership === 'knock') && newMembership) {
        const ev = await src.loadEvent(sql, m.event_id);
        if (!ev || ignored.has(ev.pdu.sender)) continue;
        const state = await src.loadState(sql, ev.stateGroupBefore);
        const stripped = state
          .events()
          .filter((e) => STRIPPED_STATE_TYPES.has(e.type))
          .map(strippedStateEvent);
        const own = (await src.serialize(sql, [ev], viewer, false))[0]!;
        const events = [...stripped, { type: own.type, state_key: own.state_key ?? '', sender: own.sender, content: own.content }];
        if (m.membership === 'invite') invite[m.room_id] = { invite_state: { events } };
        else knock[m.room_id] = { knock_state: { events } };
      } else if (m.membership === 'leave' || m.membership === 'ban') {
        // Forgetting hides the room from initial syncs only: a client whose token predates the leave
        // still needs it once, or the room stays joined on its side.
        if (since ? m.stream_pos <= sincePos : !filter.room?.include_leave || forgotten.has(m.room_id)) continue;
        const window = { roomId: m.room_id, after: since ? sincePos : 0, upTo: m.stream_pos, fresh: !since || req.fullState };
        const { timeline, state } = await syncRoomTimeline(sql, src, viewer, window, filter, ignored);
        leave[m.room_id] = { timeline, state, account_data: { events: [] } };
      }
    }

    const pushRules = await src.pushRulesSince(sql, viewer.userId, since?.pos, upTo.pos);
    const globalData = [
      ...accountData.filter((a) => a.room_id === '' && a.stream_pos <= upTo.pos),
      ...(pushRules ? [{ type: 'm.push_rules', content: pushRules }] : []),
    ]
      .filter((a) => matchesFilter(filter.account_data, { type: a.type, sender: viewer.userId, content: a.content }))
      .map((a) => ({ type: a.type, content: a.content }));
    const presence = (await src.presenceSince(sql, viewer.userId, since?.pos, upTo.pos)).filter((e) =>
      matchesFilter(filter.presence, e as never),
    );

    const empty =
      Object.keys(join).length +
        Object.keys(invite).length +
        Object.keys(leave).length +
        Object.keys(knock).length +
        globalData.length +
        presence.length ===
      0;
    return {
      empty,
      joinedRooms: new Set(memberships.filter((m) => m.membership === 'join' || m.membership === 'invite').map((m) => m.room_id)),
      body: {
        next_batch: formatSyncToken(upTo),
        rooms: { join, invite, leave, knock },
        account_data: { events: globalData },
        presence: { events: presence },
        to_device: { events: [] },
        device_lists: { changed: [], left: [] },
        device_one_time_keys_count: {},
        'org.matrix.msc2732.device_unused_fallback_key_types': [],
        device_unused_fallback_key_types: [],
      },
    };
  }

  return {
    async sync(viewer: Viewer, req: SyncRequest) {
      // A token another process issued may be ahead of this one's view: everything up to it is
      // persisted too, and going back behind it would send the client events twice.
      const upToNow = (): StreamPoint => {
        const c = notifier.current();
        return req.since ? { pos: Math.max(c.pos, req.since.pos), typing: Math.max(c.typing, req.since.typing) } : c;
      };
      // Read-your-writes: a write that returned before this request is in its window.
      await notifier.settled();
      let upTo = upToNow();
      let result = await once(viewer, req, upTo);
      if (!result.empty || !req.since || req.timeoutMs <= 0 || req.fullState) return result.body;
      const deadline = Date.now() + req.timeoutMs;
      // Wake on anything concerning the user; a wake-up can find nothing visible, so loop until the deadline.
      while (result.empty && Date.now() < deadline && !req.signal?.aborted) {
        await notifier.wait({ userId: viewer.userId, rooms: result.joinedRooms }, upTo, deadline - Date.now(), req.signal);
        upTo = upToNow();
        result = await once(viewer, req, upTo);
      }
      return result.body;
    },
  };
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
}

/** Receipts as the m.receipt content map; private receipts only to their owner. */
function receiptContent(rows: ReceiptRow[], userId: string): JsonObject | undefined {
  const out: Record<string, Record<string, Record<string, JsonObject>>> = {};
  for (const r of rows) {
    if (r.receipt_type === 'm.read.private' && r.user_id !== userId) continue;
    const byType = (out[r.event_id] ??= {});
    const byUser = (byType[r.receipt_type] ??= {});
    byUser[r.user_id] = { ts: r.ts, ...(r.thread_id ? { thread_id: r.thread_id } : {}) };
  }
  return Object.keys(out).length > 0 ? (out as unknown as JsonObject) : undefined;
}
