import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SigningKey } from '../federation/events/index.ts';
import { createClient, type RedisClientType } from 'redis';
import { createAccounts } from './accounts/index.ts';
import { buildApp } from './app.ts';
import { answerClientError } from './http/client-error.ts';
import { configWarnings, type Config } from './config/load.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrate, readMigrations } from './db/migrate.ts';
import { createDiscovery } from './discovery/index.ts';
import { createDomainEvents, dispatcherOptions } from './domain-events/index.ts';
import { startPgliteMaintenance } from './db/pglite-maintenance.ts';
import { streamWatermark } from './db/stream.ts';
import { deploymentId } from './db/deployment.ts';
import { createE2ee } from './e2ee/index.ts';
import { createKeyBackup } from './key-backup/index.ts';
import { createMedia } from './media/index.ts';
import { createHousekeeping } from './ops/housekeeping.ts';
import { createSearchComponent } from './search/index.ts';
import { createUserDirectory } from './user-directory/index.ts';
import { createPresence, presenceTimeouts } from './presence/index.ts';
import { createPush } from './push/index.ts';
import { createRooms, type Rooms } from './rooms/index.ts';
import { createVoip } from './voip/index.ts';
import { createSyncComponent, syncTokenPos, type SyncSources } from './sync/index.ts';
import {
  bridgeNotifierOverRedis,
  createNotifier,
  createRedisTyping,
  createTyping,
  startingTypingSerial,
  type Notifier,
} from './notifier/index.ts';
import { createRedisBus, type Bus } from './redis/bus.ts';
import { disconnectRedis } from './redis/disconnect.ts';
import { createMemoryRateLimiter, type RateLimiter } from './http/rate-limiter.ts';
import { createRedisRateLimiter } from './http/redis-rate-limiter.ts';
import { loadOrCreateSigningKey } from './keys/index.ts';
import { createLifecycle, type Stopped } from './lifecycle.ts';
import { createLogger } from './ops/logger.ts';
import { createInFlight } from './ops/in-flight.ts';
import { createMetrics } from './ops/metrics.ts';
import { PACKAGE_ROOT } from './package-root.ts';

export const MIGRATIONS_DIR = join(PACKAGE_ROOT, 'schema', 'postgres');

/** How long a stopping server waits for open requests (and then for their handlers). */
const HTTP_GRACE_MS = 10_000;

export interface Homeserver {
  config: Config;
  /** Base URL of the first listener, e.g. http://127.0.0.1:8008 (port resolved when 0). */
  url: string;
  db: Database;
  log: Logger;
  signingKey: SigningKey;
  /** Where events from other servers enter the room engine (federation calls it). */
  events: Pick<Rooms['writer'], 'persistRemote'>;
  /**
   * Stops serving, lets in-flight requests finish, then stops consumers, Redis and the
   * database, in that order; says how each stop went. A second call returns the first's promise.
   */
  close(): Promise<Stopped[]>;
}

/** The composition root: every dependency is built here, once, and handed down. */
export async function startHomeserver(configIn: Config, opts: { log?: Logger } = {}): Promise<Homeserver> {
  const log = opts.log ?? createLogger(configIn.logging.level);
  for (const warning of configWarnings(configIn)) log.warn(warning);
  const signingKey = loadOrCreateSigningKey(configIn.signing_key_path);
  // Everything long-running is started through it, so it stops in the reverse order.
  const lifecycle = createLifecycle({ log });
  const db = await openDatabase({
    url: configIn.database.url,
    maxConnections: configIn.database.max_connections,
    dataDir: configIn.data_dir,
    log,
  });
  await lifecycle.start({ name: 'database', stop: () => db.close() });
  const servers: ServerType[] = [];
  try {
    await migrate(db.sql, readMigrations(MIGRATIONS_DIR), log);
    if (db.engine === 'pglite') {
      // PostgreSQL's autovacuum does this for a real database.
      const maintenance = startPgliteMaintenance(db.sql, log);
      await lifecycle.start({ name: 'pglite-maintenance', stop: () => maintenance.stop() });
    }

    // Requests that arrive before the components are built are told to retry.
    let appFetch: (req: Request, env: unknown) => Response | Promise<Response> = () =>
      Response.json({ errcode: 'M_UNKNOWN', error: 'Starting up' }, { status: 503, headers: { 'Retry-After': '1' } });
    // Bound now, so a port-0 listener's port is known to the config below; the sockets are
    // closed gracefully by 'http' (started last, so stopped first), this only closes them
    // if starting fails before then.
    await lifecycle.start({
      name: 'listeners',
      async start() {
        try {
          for (const listener of configIn.listeners) {
            for (const hostname of listener.bind_addresses)
              servers.push(await listen(listener.port, hostname, (req, env) => appFetch(req, env)));
          }
        } catch (err) {
          // Not started, so not stopped: close the listeners bound before the one that failed.
          await Promise.all(servers.map((s) => closeServer(s)));
          throw err;
        }
      },
      stop: () => Promise.all(servers.map((s) => closeServer(s))),
    });
    const first = servers[0]!.address() as AddressInfo;
    const host = first.family === 'IPv6' ? `[${first.address}]` : first.address;
    const url = `http://${host}:${first.port}`;
    // Listen first, so a derived public_baseurl names the port really bound (port 0 in tests).
    const config = withBoundPort(configIn, first.port);

    let redis: RedisClientType | undefined;
    let bus: Bus | undefined;
    let rateLimiter: RateLimiter;
    const onError = (err: unknown) => log.error({ err }, 'background task failed');
    if (config.redis.url) {
      // Named, so an operator (or a test) can tell this process's connections apart in CLIENT LIST.
      redis = createClient({ url: config.redis.url, name: `commcomms-${process.pid}` });
      redis.on('error', (err) => log.error({ err }, 'redis error'));
      const client = redis;
      await lifecycle.start({ name: 'redis', start: () => client.connect().then(() => {}), stop: () => disconnectRedis(client) });
      const theBus = await createRedisBus(redis, await deploymentId(db.sql), (err) => log.error({ err }, 'redis subscriber error'));
      bus = theBus;
      await lifecycle.start({ name: 'redis-bus', stop: () => theBus.close() });
      rateLimiter = createRedisRateLimiter(redis);
    } else {
      rateLimiter = createMemoryRateLimiter();
    }
    const limiter = rateLimiter;
    await lifecycle.start({ name: 'rate-limiter', stop: () => limiter.close() });

    const metrics = createMetrics();
    const domainEvents = createDomainEvents({
      sql: db.sql,
      log,
      registry: metrics.registry,
      options: dispatcherOptions(config.domain_events),
    });
    // Typing serials start at the clock so tokens from before a restart stay behind new ones
    // (with Redis, at the shared counter, which started at the clock).
    const start = { pos: await streamWatermark(db.sql), typing: redis && bus ? await startingTypingSerial(redis, bus) : Date.now() };
    const notifierOptions = { watermark: () => streamWatermark(db.sql), onError };
    let notifier: Notifier;
    if (redis && bus) {
      const bridge = await bridgeNotifierOverRedis(
        (publish) => createNotifier(start, { ...notifierOptions, publish, othersWrite: true }),
        bus,
      );
      notifier = bridge.notifier;
      await lifecycle.start({ name: 'notifier', stop: () => bridge.close() });
    } else {
      const local = createNotifier(start, notifierOptions);
      notifier = local;
      await lifecycle.start({ name: 'notifier', stop: () => local.close() });
    }
    const typing = redis && bus ? await createRedisTyping(redis, bus, notifier, { onError }) : createTyping(notifier, start.typing);
    await lifecycle.start({ name: 'typing', stop: () => typing.close() });
    const accounts = createAccounts({
      sql: db.sql,
      config,
      rateLimiter,
      publish: domainEvents.publish,
      // Account data (tags, m.fully_read, m.direct, ...) wakes its owner's /sync.
      wakeSync: (userId, pos) => notifier.notify({ pos, userIds: [userId] }),
    });
    await accounts.start();
    const discovery = createDiscovery({ config, auth: accounts.auth });
    const rooms = createRooms({
      sql: db.sql,
      config,
      signingKey,
      notifier,
      typing,
      rateLimiter,
      accounts,
      subscribe: domainEvents.subscribe,
      publish: domainEvents.publish,
      ...(bus ? { bus } : {}),
      registry: metrics.registry,
      onError,
    });
    const push = createPush({
      sql: db.sql,
      serverName: config.server_name,
      log,
      notifier,
      auth: accounts.auth,
      subscribe: domainEvents.subscribe,
      predecessorOf: rooms.predecessorOf,
      eventAudience: rooms.eventAudience,
      eventForUser: (userId, roomId, eventId) => rooms.reads.event({ userId }, roomId, eventId),
      readPositions: (userId, roomIds) => rooms.syncSources.readPositions(db.sql, roomIds, userId),
      ignoredByEach: (userIds) => accounts.userData.ignoredUsersEach(db.sql, userIds),
    });
    await lifecycle.start({ name: 'push-delivery', start: () => push.delivery.start(), stop: () => push.delivery.stop() });
    const presence = createPresence({
      sql: db.sql,
      notifier,
      auth: accounts.auth,
      subscribe: domainEvents.subscribe,
      timeouts: presenceTimeouts(config.presence),
      onError,
      usersSharingRoomWith: rooms.usersSharingRoomWith,
      usersNewlySharingRoomWithEach: rooms.usersNewlySharingRoomWithEach,
      shareARoom: rooms.shareARoom,
      userExists: async (userId) => (await accounts.userData.getProfile(userId).catch(() => undefined)) !== undefined,
      // Who is syncing goes to Redis when there is one (a lease per user, no PostgreSQL row rewritten for it).
      ...(redis && bus ? { redis: { client: redis, namespace: bus.namespace } } : {}),
    });
    // Before 'http', so stopped after it: the last heartbeat records the syncs its stop ended.
    await lifecycle.start({ name: 'presence-timers', start: () => presence.timers.start(), stop: () => presence.timers.stop() });
    const e2ee = createE2ee({
      sql: db.sql,
      serverName: config.server_name,
      notifier,
      auth: accounts.auth,
      rooms,
      subscribe: domainEvents.subscribe,
      confirm: accounts.confirm,
      streamPosOf: syncTokenPos,
      onRemoteRecipients: (userIds) => log.warn({ userIds }, 'to-device messages for other servers dropped: federation is not available'),
    });
    const voip = createVoip({ config, auth: accounts.auth });
    const media = createMedia({ sql: db.sql, config, auth: accounts.auth, log });
    const keyBackup = createKeyBackup({ sql: db.sql, auth: accounts.auth });
    const userDirectory = createUserDirectory({
      sql: db.sql,
      auth: accounts.auth,
      usersVisibleInDirectory: rooms.usersVisibleInDirectory,
      searchProfiles: accounts.userData.searchProfiles,
      searchAllUsers: config.user_directory.search_all_users,
    });
    const search = createSearchComponent({
      sql: db.sql,
      auth: accounts.auth,
      subscribe: domainEvents.subscribe,
      searchableEvents: (eventIds) => rooms.reads.searchableEvents(eventIds),
      joinedRooms: (userId) => rooms.reads.joinedRooms(userId),
      visibleEvents: (viewer, eventIds) => rooms.reads.visibleEvents(viewer, eventIds),
      contextForSearch: (viewer, roomId, eventId, opts) => rooms.reads.contextForSearch(viewer, roomId, eventId, opts),
      roomState: (viewer, roomId) => rooms.reads.state(viewer, roomId),
    });
    const sources: SyncSources = {
      ...rooms.syncSources,
      pushRulesSince: push.pushRulesSince,
      unreadCounts: push.unreadCounts,
      roomsWithNewCounts: push.roomsWithNewCounts,
      presenceSince: presence.presenceSince,
      ...e2ee.syncReads,
      batched: () => ({ ...rooms.syncSources.batched(), ...push.batched(), ...presence.batched(), ...e2ee.batched() }),
    };
    const shutdown = new AbortController();
    const sync = createSyncComponent({
      sql: db.sql,
      notifier,
      sources,
      accounts,
      shutdown: shutdown.signal,
      syncing: presence.syncing,
      // A pass renders its rooms together so that each kind of per-room read is one query for all
      // of them (RoomStreams.batched): 500 rooms on PostgreSQL, 1,613 ms one round trip per read
      // and room, four rooms at a time; 456 ms batched. The bound caps one pass's memory.
      roomsInParallel: 1000,
    });
    const housekeeping = createHousekeeping({
      log,
      intervalMs: config.housekeeping.interval_ms,
      tasks: [
        { name: 'send transaction ids', run: () => rooms.pruneTransactionIds(config.housekeeping.transaction_ids_kept_ms) },
        { name: 'to-device transaction ids', run: () => e2ee.pruneTransactionIds(config.housekeeping.transaction_ids_kept_ms) },
      ],
    });
    await lifecycle.start({ name: 'housekeeping', start: () => housekeeping.start(), stop: () => housekeeping.stop() });
    // Every consumer has subscribed. Stopped right after HTTP: its handlers finish while the pools are open.
    await lifecycle.start({ name: 'domain-events', start: () => domainEvents.start(), stop: () => domainEvents.stop() });

    const inFlight = createInFlight();
    const app = buildApp({
      log,
      metrics,
      inFlight: inFlight.middleware,
      maxBodyBytes: config.max_request_body_bytes,
      mount: [
        (a) => discovery.mount(a),
        (a) => accounts.mount(a),
        (a) => rooms.mount(a),
        (a) => sync.mount(a),
        (a) => push.mount(a),
        (a) => presence.mount(a),
        (a) => voip.mount(a),
        (a) => e2ee.mount(a),
        (a) => keyBackup.mount(a),
        (a) => userDirectory.mount(a),
        (a) => search.mount(a),
        (a) => media.mount(a),
        (a) => {
          if (config.listeners.some((l) => l.resources.includes('metrics'))) {
            a.get('/metrics', async (c) => c.text(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }));
          }
        },
      ],
    }).fetch;
    await lifecycle.start({
      name: 'http',
      start() {
        appFetch = app;
      },
      // Stop accepting, answer long-polls now, then let in-flight requests finish.
      async stop() {
        const stopping = Promise.all(servers.map((s) => closeServer(s, HTTP_GRACE_MS)));
        shutdown.abort();
        await stopping;
        await inFlight.idle(HTTP_GRACE_MS);
      },
      stopTimeoutMs: 2 * HTTP_GRACE_MS + 5_000,
    });

    log.info({ url, serverName: config.server_name, database: db.engine }, 'CommComms homeserver listening');

    const close = async () => {
      const report = await lifecycle.stop();
      log.info({ report }, 'CommComms homeserver stopped');
      return report;
    };
    return { config, url, db, log, signingKey, events: { persistRemote: rooms.writer.persistRemote }, close };
  } catch (err) {
    await lifecycle.stop();
    throw err;
  }
}

function listen(port: number, hostname: string, fetch: (req: Request, env: unknown) => Response | Promise<Response>): Promise<ServerType> {
  return new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch, port, hostname }, () => resolve(s));
    s.once('error', reject);
    s.on('clientError', answerClientError);
    keepConnectionsAlive(s);
  });
}

function closeServer(server: ServerType, graceMs = HTTP_GRACE_MS): Promise<void> {
  const s = server as import('node:http').Server;
  // Already closed by 'http' (the 'listeners' stop that follows it has nothing to do).
  if (!s.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => s.closeAllConnections?.(), graceMs);
    // A keep-alive connection that was busy when closing began turns idle once its
    // response is sent; close it then, not after the client's keep-alive timeout.
    const sweep = setInterval(() => s.closeIdleConnections?.(), 100);
    s.close(() => {
      clearTimeout(timer);
      clearInterval(sweep);
      resolve();
    });
    s.closeIdleConnections?.();
  });
}

/**
 * Node closes a keep-alive connection idle for 5 s (`keepAliveTimeout`'s default). A
 * client that reuses the connection as the server closes it gets ECONNRESET on a
 * request the server never read; clients and proxies keep idle connections for longer
 * than 5 s (Node's Agent until the server closes them, nginx 60 s, browsers 60-300 s),
 * and a sync client sits idle between its long-polls. So the server keeps idle
 * connections for 65 s, longer than a 60 s proxy or client idle timeout, so the
 * client, not the server, is the one that closes them. `headersTimeout` is kept above
 * it, the usual advice for servers behind load balancers (older Node versions timed a
 * reused connection's headers from the end of the previous request).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

function keepConnectionsAlive(server: ServerType): void {
  const s = server as import('node:http').Server;
  s.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  s.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
}

/** A public_baseurl derived from a port-0 listener names the port actually bound. */
function withBoundPort(config: Config, port: number): Config {
  const base = new URL(config.public_baseurl);
  if (base.port !== '0') return config;
  base.port = String(port);
  return { ...config, public_baseurl: base.toString() };
}
