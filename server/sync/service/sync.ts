import type { Sql } from '../../db/database.ts';
import type { Filter } from '../../matrix/index.ts';
import type { Notifier, StreamPoint } from '../../notifier/index.ts';
import { accountDataProvider } from './providers/account-data.ts';
import { e2eeProvider, type E2eeSection } from './providers/e2ee.ts';
import { roomSet, type Membership } from './providers/memberships.ts';
import type { SyncPass } from './providers/pass.ts';
import { presenceProvider } from './providers/presence.ts';
import { pushRulesProvider } from './providers/push-rules.ts';
import { receiptsProvider } from './providers/receipts.ts';
import { roomsProvider } from './providers/rooms.ts';
import { typingProvider } from './providers/typing.ts';
import type { Viewer } from './room-sync.ts';
import type { SyncReads, SyncSources } from './sources.ts';
import { formatSyncToken, type SyncToken } from './sync-token.ts';

export interface SyncRequest {
  since?: SyncToken | undefined;
  timeoutMs: number;
  fullState: boolean;
  filter: Filter;
  signal?: AbortSignal | undefined;
}

export interface SyncDeps {
  sql: Sql;
  notifier: Notifier;
  sources: SyncSources;
  roomsInParallel: number;
}

/** /sync v2: one pass computes everything after `since`; an empty pass waits for the notifier. */
export function createSync({ sql, notifier, sources, roomsInParallel }: SyncDeps) {
  // Passes that start in the same tick (the syncs one event woke) share one set of loaders, so
  // their per-room reads go out together; a later tick gets a set of its own.
  let tickSources: SyncReads | undefined;
  function batchedSources(): SyncReads {
    if (!tickSources) {
      tickSources = sources.batched();
      setImmediate(() => (tickSources = undefined));
    }
    return tickSources;
  }

  /** One pass: each stream's provider reads (since, upTo] and fills its section of the response. */
  async function once(viewer: Viewer, req: SyncRequest, upTo: StreamPoint) {
    const since = req.since;
    const pass: SyncPass = {
      sql,
      src: batchedSources(),
      viewer,
      since,
      sincePos: since?.pos ?? 0,
      toDeviceAcked: since ? (since.toDevice ?? since.pos) : undefined,
      upTo,
      filter: req.filter,
      fullState: req.fullState,
      roomsInParallel,
    };
    // Streams that do not depend on each other read at once: a pass waits for its longest chain
    // of round trips (memberships, then receipts and the rooms), not for the sum of them all.
    const [rooms, accountData, pushRules, presence, e2ee] = await Promise.all([
      roomSet(pass),
      accountDataProvider(pass),
      pushRulesProvider(pass),
      presenceProvider(pass),
      e2eeProvider(pass),
    ]);
    const typing = typingProvider(pass);
    const extras = receiptsProvider(pass, rooms.joinedIds).then((receipts) => ({
      ephemeral: [typing, receipts],
      accountData: accountData.rooms,
    }));
    const { join, invite, leave, knock } = await roomsProvider(pass, rooms, extras);
    const globalData = [...accountData.global, ...pushRules];

    const empty =
      Object.keys(join).length +
        Object.keys(invite).length +
        Object.keys(leave).length +
        Object.keys(knock).length +
        globalData.length +
        presence.length +
        e2ee.toDevice.length +
        e2ee.deviceLists.changed.length +
        e2ee.deviceLists.left.length ===
      0;
    return {
      empty,
      joinedRooms: roomsToWaitOn(rooms.all),
      body: {
        ...emptyBody({ ...upTo, ...(e2ee.toDeviceResumeAfter !== undefined ? { toDevice: e2ee.toDeviceResumeAfter } : {}) }),
        rooms: { join, invite, leave, knock },
        account_data: { events: globalData },
        presence: { events: presence },
        ...e2eeBody(e2ee),
      },
    };
  }

  /**
   * The pass for a token already at upTo: every stream would read (since, upTo], which is empty,
   * and typing has not moved past the token's serial, so nothing is read but the rooms to wait
   * on, and those only when the request will wait.
   */
  async function nothingNew(viewer: Viewer, req: SyncRequest, upTo: StreamPoint) {
    const joinedRooms = req.timeoutMs > 0 ? roomsToWaitOn(await batchedSources().memberships(sql, viewer.userId)) : new Set<string>();
    return { empty: true, joinedRooms, body: emptyBody(upTo) };
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
      let result = atToken(req, upTo) ? await nothingNew(viewer, req, upTo) : await once(viewer, req, upTo);
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

/** A waiting /sync wakes for events in the rooms the user is joined or invited to. */
function roomsToWaitOn(memberships: readonly Membership[]): Set<string> {
  return new Set(memberships.filter((m) => m.membership === 'join' || m.membership === 'invite').map((m) => m.room_id));
}

/**
 * An incremental token at the current position (both stream and typing serial, and no to-device
 * messages left over from a response that could not carry them all), outside full_state.
 */
function atToken(req: SyncRequest, upTo: StreamPoint): boolean {
  return (
    !!req.since && !req.fullState && req.since.pos === upTo.pos && req.since.typing === upTo.typing && req.since.toDevice === undefined
  );
}

/**
 * A response with nothing in it. It leaves out the key counts rather than say "none": a client
 * told it has no unused fallback key makes and uploads a new one.
 */
function emptyBody(upTo: SyncToken) {
  return {
    next_batch: formatSyncToken(upTo),
    rooms: { join: {}, invite: {}, leave: {}, knock: {} },
    account_data: { events: [] as unknown[] },
    presence: { events: [] as unknown[] },
    to_device: { events: [] as unknown[] },
    device_lists: { changed: [] as string[], left: [] as string[] },
  };
}

function e2eeBody(e2ee: E2eeSection) {
  return {
    to_device: { events: e2ee.toDevice },
    device_lists: e2ee.deviceLists,
    ...(e2ee.oneTimeKeyCounts ? { device_one_time_keys_count: e2ee.oneTimeKeyCounts } : {}),
    ...(e2ee.unusedFallbackKeyTypes
      ? {
          device_unused_fallback_key_types: e2ee.unusedFallbackKeyTypes,
          // The name before it was in the spec; older clients read only this one.
          'org.matrix.msc2732.device_unused_fallback_key_types': e2ee.unusedFallbackKeyTypes,
        }
      : {}),
  };
}
