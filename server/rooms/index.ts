import type { Registry } from 'prom-client';
import type { Hono } from 'hono';
import type { SigningKey } from '../../federation/events/index.ts';
import type { Accounts } from '../accounts/index.ts';
import type { Config } from '../config/load.ts';
import type { Sql } from '../db/database.ts';
import type { SubscribeDomainEvents, PublishDomainEvent } from '../domain-events/index.ts';
import type { AppEnv } from '../http/hono-env.ts';
import { MatrixError } from '../http/matrix-error.ts';
import type { RateLimiter } from '../http/rate-limiter.ts';
import type { Notifier, Typing } from '../notifier/index.ts';
import { accountConsumers } from './service/account-consumers.ts';
import { createAndMembershipRoutes } from './routes/create-and-membership.ts';
import { ephemeralRoutes } from './routes/ephemeral.ts';
import { eventRoutes } from './routes/events.ts';
import { directoryRoutes } from './routes/directory.ts';
import { hierarchyRoutes } from './routes/hierarchy.ts';
import { relationRoutes } from './routes/relations.ts';
import { upgradeRoutes } from './routes/upgrade.ts';
import { createPublicRooms } from './service/public-rooms.ts';
import { createHierarchy } from './service/hierarchy.ts';
import { createRelations } from './service/relations.ts';
import { createRoomAliases } from './service/room-aliases.ts';
import { createRoomUpgrader } from './service/room-upgrade.ts';
import { optionalAuth } from '../http/auth.ts';
import { tagsAndReportsRoutes } from './routes/tags-and-reports.ts';
import { createRoomCreator } from './service/create-room.ts';
import { createEphemeral } from './service/ephemeral.ts';
import { createEventSerializer } from './service/event-serializer.ts';
import { createPersister } from './service/persister/index.ts';
import { createMembership } from './service/membership.ts';
import { createRoomAccess } from './service/room-access.ts';
import { createRoomLocks } from './service/room-lock.ts';
import { createRoomReads } from './service/room-reads.ts';
import { createRoomState } from './service/room-state.ts';
import { createRoomStreams } from './service/room-streams.ts';
import type { Bus } from '../redis/bus.ts';
import { createReports } from './service/reports.ts';
import { createRoomWrites } from './service/room-writes.ts';
import { createTags } from './service/tags.ts';
import { createVisibility } from './service/visibility.ts';
import { createEventAudience } from './service/event-audience.ts';
import {
  shareARoom,
  usersNewlySharingRoomWithEach,
  usersNoLongerSharingRoomWithEach,
  usersSharingRoomWith,
  usersVisibleInDirectory,
} from './storage/shared-rooms.ts';
import { pruneTxns } from './storage/rooms.ts';
import { pruneInBatches } from '../db/prune.ts';

export interface RoomsDeps {
  sql: Sql;
  config: Config;
  signingKey: SigningKey;
  notifier: Notifier;
  typing: Typing;
  rateLimiter: RateLimiter;
  accounts: Accounts;
  /** Rooms' consumers of account events are registered here (before the dispatcher starts). */
  subscribe: SubscribeDomainEvents;
  publish: PublishDomainEvent;
  /** Several processes: evictions of the event cache reach every process. */
  bus?: Bus;
  /** The homeserver's /metrics. */
  registry?: Registry;
  onError?: (err: unknown) => void;
}

/** The room engine: events, state, membership, history; and what /sync reads of it. */
export function createRooms({
  sql,
  config,
  signingKey,
  notifier,
  typing,
  rateLimiter,
  accounts,
  subscribe,
  publish,
  bus,
  registry,
  onError,
}: RoomsDeps) {
  const roomState = createRoomState({ ...(bus ? { bus } : {}), ...(onError ? { onError } : {}) });
  const visibility = createVisibility(roomState);
  const serializer = createEventSerializer(roomState);
  const writer = createPersister({
    sql,
    serverName: config.server_name,
    signingKey,
    roomState,
    notifier,
    withRoomLock: createRoomLocks(),
    publish,
    ...(registry ? { registry } : {}),
  });
  const profileOf = (userId: string) => accounts.userData.getProfile(userId).catch(() => ({}));
  const currentProfile = (userId: string) =>
    accounts.userData.getProfile(userId).catch((err: unknown) => {
      if (err instanceof MatrixError && err.status === 404) return undefined;
      throw err;
    });
  const membership = createMembership({ sql, serverName: config.server_name, writer, roomState, profileOf });
  const createRoom = createRoomCreator({ sql, config, writer, profileOf });
  const writes = createRoomWrites({ sql, writer, membership });
  const viewRoom = createRoomAccess(sql, roomState, visibility);
  const reads = createRoomReads({
    sql,
    roomState,
    visibility,
    serializer,
    viewRoom,
    ignoredBy: (u) => accounts.userData.ignoredUsers(sql, u),
  });
  const relations = createRelations({
    sql,
    roomState,
    visibility,
    serializer,
    viewRoom,
    ignoredBy: (u) => accounts.userData.ignoredUsers(sql, u),
  });
  const aliases = createRoomAliases({ sql, serverName: config.server_name, writer, membership });
  const publicRooms = createPublicRooms({ sql, membership });
  const hierarchy = createHierarchy({ sql, roomState });
  const upgrader = createRoomUpgrader({ sql, serverName: config.server_name, writer, membership, profileOf });
  const { findAccountData, updateAccountData } = accounts.userData;
  const ephemeral = createEphemeral({ sql, notifier, typing, roomState, visibility, updateAccountData });
  const tags = createTags({ sql, findAccountData, updateAccountData });
  const reports = createReports({ sql, roomState, visibility });
  const eventAudience = createEventAudience({ sql, roomState });

  // What /sync reads of rooms (sync's SyncSources adds push rules and presence from their components).
  const syncSources = createRoomStreams({ sql, roomState, typing, userData: accounts.userData });

  // Account changes reach rooms as domain events: leave on deactivation, announce a new profile.
  for (const consumer of accountConsumers({ sql, writer, membership, currentProfile })) subscribe(consumer);

  return {
    syncSources,
    membership,
    writer,
    reads,
    /** For presence: who shares a joined room with a user (of some candidates, since when), and whether two users do. */
    usersSharingRoomWith,
    usersNewlySharingRoomWithEach,
    /** For device lists: who stopped sharing every joined room with a user, since when. */
    usersNoLongerSharingRoomWithEach,
    shareARoom,
    /** For push: an event with the members it may notify and the room's power levels. */
    eventAudience,
    /** Housekeeping: send transaction ids older than this are forgotten (a retry after it sends again). */
    pruneTransactionIds: (keptMs: number): Promise<number> => pruneInBatches((limit) => pruneTxns(sql, keptMs, limit)),
    /** For the user directory: whom a user's search may find. */
    usersVisibleInDirectory,
    /** For push rules that follow an upgrade: the room this one replaces, named by its create event. */
    async predecessorOf(roomId: string): Promise<string | undefined> {
      const predecessor = (await membership.currentState(roomId)).state.get('m.room.create', '')?.content.predecessor;
      const from = predecessor && typeof predecessor === 'object' && !Array.isArray(predecessor) ? predecessor.room_id : undefined;
      return typeof from === 'string' ? from : undefined;
    },
    mount(app: Hono<AppEnv>): void {
      const deps = { config, auth: accounts.auth, rateLimiter, createRoom, membership, writes, reads };
      createAndMembershipRoutes(app, deps);
      eventRoutes(app, deps);
      relationRoutes(app, { auth: accounts.auth, relations });
      directoryRoutes(app, {
        serverName: config.server_name,
        auth: accounts.auth,
        optionalAuth: optionalAuth(accounts.authenticator),
        aliases,
        publicRooms,
      });
      upgradeRoutes(app, { auth: accounts.auth, upgrader });
      hierarchyRoutes(app, { auth: accounts.auth, hierarchy });
      ephemeralRoutes(app, { auth: accounts.auth, ephemeral });
      tagsAndReportsRoutes(app, { auth: accounts.auth, tags, reports });
    },
  };
}

export type Rooms = ReturnType<typeof createRooms>;

// The shapes /sync and other readers see of the room engine.
export type { RoomStreams } from './streams.ts';
export type { EventAudience } from './service/event-audience.ts';
export type { StoredEvent } from './storage/events.ts';
export type { ReceiptRow } from './storage/receipts.ts';
export type { LoadedState } from './service/room-state.ts';
export type { ClientEvent } from './service/client-event.ts';
export type { Persister, RemoteEvent, Verdict } from './service/persister/index.ts';
export { MissingEventsError } from './service/persister/index.ts';
