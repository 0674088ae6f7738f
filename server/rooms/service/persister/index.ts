/**
 * The one persister for local and remote events. Each write runs its steps in
 * one transaction under the room's lock:
 *   build and sign (local only) → state before (resolved across prev events) →
 *   the three auth checks → write (state group, edges, relations, redactions) →
 *   forward extremities and current state;
 * and after commit tells /sync. Local sends that queue behind a room's write go in
 * one transaction together (local-sends.ts). Federation calls `persistRemote` with
 * what it receives.
 */
import { describePduLimitProblem, pduLimitProblem, roomIdFromCreateEvent } from '../../../../federation/events/index.ts';
import type { JsonObject, Pdu } from '../../../../federation/events/pdu.ts';
import { roomVersion, type RoomVersion } from '../../../../federation/room-versions.ts';
import type { Tx } from '../../../db/database.ts';
import { nextStreamPosition } from '../../../db/stream.ts';
import { transaction } from '../../../db/transaction.ts';
import type { Membership } from '../../../domain-events/index.ts';
import { MatrixError } from '../../../http/matrix-error.ts';
import type { Change } from '../../../notifier/index.ts';
import { advanceForwardExtremities, getCurrentStateGroup, getForwardExtremities, updateBackwardExtremities } from '../../storage/dag.ts';
import { knownEventIds, nextBackfillPosition, type StoredEvent } from '../../storage/events.ts';
import { getRoom, getTxnEvents, insertRoom, membershipOf, txnKeyString } from '../../storage/rooms.ts';
import { checkReceivedEvent } from './auth-checks.ts';
import { buildCreateEvent, buildLocalEvent, choosePrevEvents, extremitiesAfterLocal } from './build-local.ts';
import { updateCurrentState } from './current-state.ts';
import { MissingEventsError } from '../../../../federation/state-res/index.ts';
import { stateBeforeEvent, type GroupedState } from './state-before.ts';
import { txnKeyOfEvent, type NewEvent, type PersisterDeps, type PreparedLocal, type RemoteEvent, type Verdict } from './types.ts';
import { writeEvent } from './write-event.ts';
import { createLocalSends } from './local-sends.ts';
import { withPending } from './pending-events.ts';
import { checkEventAuth, domainOf } from '../../../../federation/auth/index.ts';
import { createStateGroup } from '../../storage/state.ts';
import { splitStateKey } from '../../../../federation/events/pdu.ts';

export type { NewEvent, RemoteEvent, Verdict } from './types.ts';
export { MissingEventsError } from '../../../../federation/state-res/index.ts';
export { relationOf } from './relation-of.ts';
export { checkReceivedEvent } from './auth-checks.ts';

export function createPersister(deps: PersisterDeps) {
  const { sql, serverName, signingKey, roomState, notifier, withRoomLock, publish } = deps;

  const lockRoom = (tx: Tx, roomId: string) => tx`select pg_advisory_xact_lock(hashtextextended(${roomId}, 0))`;
  /** Room versions never change, so each is read once (bounded: a busy server has more rooms than it needs at hand). */
  const versions = new Map<string, RoomVersion>();

  /** Stores an event judged by `verdict` on top of `before`; live accepted events move the room's head. */
  async function store(...args: Parameters<typeof storeSending>): Promise<StoredEvent[]> {
    const { events, written } = await storeSending(...args);
    await written;
    return events;
  }

  /**
   * `store`, returning as soon as its last writes are sent: `written` settles when
   * they are done, and must be awaited before commit. A batch builds its next event
   * meanwhile, so its events' writes share round trips.
   */
  async function storeSending(
    tx: Tx,
    roomId: string,
    pdu: Pdu,
    version: RoomVersion,
    before: GroupedState | null,
    verdict: Verdict,
    opts: {
      outlier: boolean;
      backfilled: boolean;
      txn?: NewEvent['txn'] | undefined;
      /**
       * A local event, new and built on what is stored: the extremities it was built
       * on and the stream position it takes, both read under the room lock.
       */
      local?: { extremities: readonly string[]; streamPos: number };
    },
  ): Promise<{ events: StoredEvent[]; written: Promise<unknown> }> {
    const oldExtremities = opts.local?.extremities ?? (await getForwardExtremities(tx, roomId));
    const live = verdict.outcome === 'accepted' && !opts.outlier && !opts.backfilled;
    const prevMembership =
      live && pdu.type === 'm.room.member' && pdu.state_key !== undefined ? await membershipOf(tx, roomId, pdu.state_key) : undefined;
    const streamPos =
      opts.local?.streamPos ?? (opts.outlier || opts.backfilled ? await nextBackfillPosition(tx) : await nextStreamPosition(tx));
    const { stored, released, written } = await writeEvent(tx, roomState, {
      roomId,
      pdu,
      version,
      before,
      verdict,
      streamPos,
      outlier: opts.outlier,
      txn: opts.txn,
      fresh: opts.local !== undefined,
    });
    // A local event cites only stored events and is new: it cannot touch the backward extremities.
    if (!opts.outlier && !opts.local) {
      const known = await knownEventIds(tx, pdu.prev_events);
      await updateBackwardExtremities(
        tx,
        roomId,
        pdu.event_id,
        pdu.prev_events.filter((id) => !known.has(id)),
      );
    }
    // The writes below depend on nothing they return: they go to the database in one
    // round trip (queries on one connection run in the order sent).
    const writes: Array<Promise<unknown>> = written ? [written] : [];
    // Only accepted live events become prev events of later ones (not rejected, not soft-failed).
    if (live && opts.local) {
      const extremities = extremitiesAfterLocal(oldExtremities, pdu);
      writes.push(advanceForwardExtremities(tx, roomId, pdu.event_id, pdu.prev_events));
      writes.push(updateCurrentState(tx, roomState, stored, oldExtremities, version, extremities));
    } else if (live) {
      // The current state follows the extremities as stored: read after they are.
      await advanceForwardExtremities(tx, roomId, pdu.event_id, pdu.prev_events);
      writes.push(updateCurrentState(tx, roomState, stored, oldExtremities, version));
    }
    if (stored.inTimeline) {
      writes.push(
        publish(tx, {
          type: 'room.event_persisted',
          payload: {
            roomId,
            eventId: pdu.event_id,
            type: pdu.type,
            stateKey: pdu.state_key ?? null,
            sender: pdu.sender,
            streamPos: stored.streamPos,
            origin: domainOf(pdu.sender) === serverName ? 'local' : 'remote',
          },
        }),
      );
    }
    const membership = MEMBERSHIPS.has(pdu.content.membership as Membership) ? (pdu.content.membership as Membership) : undefined;
    if (prevMembership !== undefined && membership !== undefined && membership !== prevMembership) {
      writes.push(
        publish(tx, {
          type: 'room.membership_changed',
          payload: {
            roomId,
            userId: pdu.state_key!,
            membership,
            prevMembership: prevMembership as Membership | null,
            eventId: pdu.event_id,
          },
        }),
      );
    }
    return { events: [stored, ...released], written: Promise.all(writes) };
  }

  async function versionOf(tx: Tx, roomId: string): Promise<RoomVersion> {
    const known = versions.get(roomId);
    if (known) return known;
    const room = await getRoom(tx, roomId);
    if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    const version = roomVersion(room.room_version);
    if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${room.room_version} is not supported`);
    rememberVersion(roomId, version);
    return version;
  }

  function rememberVersion(roomId: string, version: RoomVersion): void {
    if (versions.size >= MAX_CACHED_VERSIONS) versions.delete(versions.keys().next().value!);
    versions.set(roomId, version);
  }

  /**
   * Builds and checks one local event in `tx`, under the room's lock (taken by the
   * caller), and writes nothing: a MatrixError from here leaves the transaction as
   * it was. A retry of a client transaction already stored gives that event
   * instead. The reads go in one round trip, the stream position with them (taken
   * before the event is built, which holds the watermark back only for the time
   * it takes to sign). `pending` holds the events this transaction already wrote,
   * which no cache has yet.
   */
  async function prepareLocal(
    tx: Tx,
    ev: NewEvent,
    pending: ReadonlyMap<string, StoredEvent>,
    /** What the caller already read for this event (a batch reads it for all its events at once). */
    known?: { extremityIds: readonly string[]; existing: string | undefined; streamPos: number },
  ): Promise<PreparedLocal> {
    const key = txnKeyOfEvent(ev);
    const [extremityIds, existing, streamPos] = known
      ? [known.extremityIds, known.existing, known.streamPos]
      : await Promise.all([
          getForwardExtremities(tx, ev.roomId),
          key && getTxnEvents(tx, [key]).then((found) => found.get(txnKeyString(key))),
          nextStreamPosition(tx),
        ]);
    if (existing) return { existing: pending.get(existing) ?? (await roomState.loadEvent(tx, existing))! };
    const version = await versionOf(tx, ev.roomId);
    const view = withPending(roomState, pending);
    const extremities = [...(await view.loadEvents(tx, extremityIds)).values()];
    if (extremities.length === 0) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    const prevs = choosePrevEvents(extremities);
    const before = await stateBeforeEvent(
      tx,
      view,
      ev.roomId,
      prevs.map((e) => e.pdu.event_id),
      version,
    );
    const pdu = buildLocalEvent(ev, prevs, before.get, version, serverName, signingKey);
    // Built from the current state, so the three receipt checks are this one.
    const verdict = checkEventAuth(pdu, before.get, version);
    if (!verdict.allowed) throw new MatrixError(403, 'M_FORBIDDEN', verdict.reason);
    return { roomId: ev.roomId, pdu, version, before, txn: ev.txn, local: { extremities: extremityIds, streamPos } };
  }

  /** Stores what `prepareLocal` built. */
  function storeLocal(
    tx: Tx,
    p: Exclude<PreparedLocal, { existing: StoredEvent }>,
  ): Promise<{ events: StoredEvent[]; written: Promise<unknown> }> {
    return storeSending(
      tx,
      p.roomId,
      p.pdu,
      p.version,
      p.before,
      { outcome: 'accepted' },
      { outlier: false, backfilled: false, txn: p.txn, local: p.local },
    );
  }

  /** Builds, checks and stores one local event in `tx`, under the room's lock. */
  async function appendLocal(tx: Tx, ev: NewEvent, pending: Map<string, StoredEvent> = new Map()): Promise<StoredEvent[]> {
    const prepared = await prepareLocal(tx, ev, pending);
    if ('existing' in prepared) return [prepared.existing];
    const { events, written } = await storeLocal(tx, prepared);
    await written;
    for (const e of events) pending.set(e.pdu.event_id, e);
    return events;
  }

  /**
   * After commit: the events cache learns them (a redaction's target is evicted in
   * every process first), then /sync hears of those in the live stream.
   */
  async function committed(events: StoredEvent[]): Promise<void> {
    await Promise.all(events.map((e) => roomState.remember(e)));
    for (const e of events) if (e.inTimeline && e.streamPos > 0) notifier.notify(changeOf(e));
  }

  const localSends = createLocalSends({
    sql,
    withRoomLock,
    lockRoom,
    prepare: prepareLocal,
    store: storeLocal,
    append: appendLocal,
    committed,
    ...(deps.registry ? { registry: deps.registry } : {}),
  });

  return {
    /** Send one event into an existing room. Idempotent per (sender, device, txn key). */
    send: localSends,

    /**
     * Create a room: the create event and the initial state, all in one
     * transaction, so a crash never leaves half a room.
     */
    async createRoom(
      creator: string,
      version: RoomVersion,
      createContent: JsonObject,
      roomIdForOldVersions: string,
      meta: { isPublic: boolean; roomType: string | null },
      then: Array<Omit<NewEvent, 'roomId'>>,
      /** More writes that must commit with the room (e.g. its alias). */
      alsoInTx?: (tx: Tx, roomId: string) => Promise<void>,
    ): Promise<{ roomId: string; events: StoredEvent[] }> {
      const create = buildCreateEvent(creator, version, createContent, roomIdForOldVersions, serverName, signingKey);
      const roomId = version.roomIdFromCreateEvent ? roomIdFromCreateEvent(create, version) : roomIdForOldVersions;
      const events = await transaction(sql, async (tx) => {
        await insertRoom(tx, { roomId, version: version.id, creator, isPublic: meta.isPublic, roomType: meta.roomType });
        await lockRoom(tx, roomId);
        const verdict = checkEventAuth(create, () => undefined, version);
        if (!verdict.allowed) throw new MatrixError(403, 'M_FORBIDDEN', verdict.reason);
        const out = await store(
          tx,
          roomId,
          create,
          version,
          { group: null, ...(await roomState.loadState(tx, null)) },
          { outcome: 'accepted' },
          {
            outlier: false,
            backfilled: false,
          },
        );
        rememberVersion(roomId, version);
        const pending = new Map(out.map((e) => [e.pdu.event_id, e]));
        for (const ev of then) out.push(...(await appendLocal(tx, { ...ev, roomId }, pending)));
        await alsoInTx?.(tx, roomId);
        return out;
      });
      await committed(events);
      return { roomId, events };
    },

    /**
     * Persist an event another server sent (its format, hashes and signatures
     * already checked by federation). Stored whatever the verdict: rejected and
     * soft-failed events are kept, out of the timeline. Throws MissingEventsError,
     * having written nothing, when auth or prev events are not here yet.
     */
    async persistRemote(remote: RemoteEvent): Promise<{ event: StoredEvent; verdict: Verdict }> {
      const { pdu } = remote;
      // Over the spec's limits, or not representable as canonical JSON: dropped, as the spec asks.
      const problem = pduLimitProblem(pdu);
      if (problem) throw new MatrixError(400, 'M_BAD_JSON', describePduLimitProblem(problem));
      const roomId = pdu.room_id ?? (pdu.type === 'm.room.create' ? remoteCreateRoomId(pdu) : undefined);
      if (!roomId) throw new MatrixError(400, 'M_BAD_JSON', 'Event has no room_id');
      const result = await withRoomLock(roomId, () =>
        transaction(sql, async (tx) => {
          await lockRoom(tx, roomId);
          const existing = await roomState.loadEvent(tx, pdu.event_id);
          if (existing) return { events: [existing], verdict: verdictOf(existing), fresh: false };
          if (pdu.type === 'm.room.create' && pdu.state_key === '' && !(await getRoom(tx, roomId))) {
            const id = typeof pdu.content.room_version === 'string' ? pdu.content.room_version : '1';
            if (!roomVersion(id)) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${id} is not supported`);
            await insertRoom(tx, { roomId, version: id, creator: pdu.sender, isPublic: false, roomType: roomTypeOf(pdu) });
          }
          const version = await versionOf(tx, roomId);

          const authIds = [
            ...pdu.auth_events,
            ...(version.roomIdFromCreateEvent && pdu.type !== 'm.room.create' ? [`$${roomId.slice(1)}`] : []),
          ];
          const auth = await roomState.loadEvents(tx, authIds);
          const missingAuth = authIds.filter((id) => !auth.has(id));
          if (missingAuth.length > 0) throw new MissingEventsError(missingAuth, 'auth events');
          const authEvents = new Map([...auth].map(([id, e]) => [id, e.pdu]));
          const isRejected = (id: string) => auth.get(id)?.rejectedReason != null;

          let before: GroupedState | null = null;
          if (!remote.outlier) {
            before = remote.stateBefore
              ? await givenState(tx, roomId, remote.stateBefore)
              : await stateBeforeEvent(tx, roomState, roomId, pdu.prev_events, version);
          }
          let current: GroupedState | undefined;
          if (before && !remote.backfilled) {
            const group = await getCurrentStateGroup(tx, roomId);
            current = group === before.group ? before : { group: group ?? null, ...(await roomState.loadState(tx, group ?? null)) };
          }
          const verdict = checkReceivedEvent(
            pdu,
            { authEvents, stateBefore: before?.get, currentState: current?.get, isRejected },
            version,
          );
          const events = await store(tx, roomId, pdu, version, before, verdict, {
            outlier: remote.outlier ?? false,
            backfilled: remote.backfilled ?? false,
          });
          return { events, verdict, fresh: true };
        }),
      );
      if (result.fresh) await committed(result.events);
      return { event: result.events[0]!, verdict: result.verdict };
    },
  };

  /** A state given by id (from /state_ids): every event in it must be stored. */
  async function givenState(tx: Tx, roomId: string, state: ReadonlyMap<string, string>): Promise<GroupedState> {
    const ids = [...state.values()];
    const found = await knownEventIds(tx, ids);
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new MissingEventsError(missing, 'state events');
    const entries = [...state].map(([k, event_id]) => {
      const [type, state_key] = splitStateKey(k);
      return { type, state_key, event_id };
    });
    const group = await createStateGroup(tx, roomId, null, entries, async () => []);
    return { group, ...(await roomState.loadState(tx, group)) };
  }
}

function verdictOf(e: StoredEvent): Verdict {
  if (e.rejectedReason !== null) return { outcome: 'rejected', reason: e.rejectedReason };
  if (e.softFailed) return { outcome: 'soft_failed', reason: 'soft-failed' };
  return { outcome: 'accepted' };
}

function remoteCreateRoomId(pdu: Pdu): string | undefined {
  const id = pdu.content.room_version;
  const version = typeof id === 'string' ? roomVersion(id) : undefined;
  return version?.roomIdFromCreateEvent ? roomIdFromCreateEvent(pdu, version) : undefined;
}

function roomTypeOf(create: Pdu): string | null {
  return typeof create.content.type === 'string' ? create.content.type : null;
}

function changeOf(e: StoredEvent): Change {
  // A membership change also concerns its target, who may not be in the room yet.
  const userIds = e.pdu.type === 'm.room.member' && e.pdu.state_key ? [e.pdu.state_key] : undefined;
  return { pos: e.streamPos, roomId: e.roomId, ...(userIds ? { userIds } : {}) };
}

const MEMBERSHIPS = new Set<Membership>(['join', 'invite', 'leave', 'ban', 'knock']);

const MAX_CACHED_VERSIONS = 10_000;

export type Persister = ReturnType<typeof createPersister>;
/** The name the room services know it by. */
export type EventWriter = Persister;
