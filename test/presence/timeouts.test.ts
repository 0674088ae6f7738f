import { beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/accounts.ts';
import { registerUser, type TestUser } from '../support/client.ts';
import { CS, createRoom, enc, joinRoom, ok, sendText, sync, syncOk } from '../support/rooms.ts';
import { expectMatchesSchemaFile, expectMatchesSpec } from '../support/spec-schema.ts';
import { presenceOf, syncToken, syncUntil } from '../support/sync.ts';
import { startTestHomeserver, TEST_DB } from '../support/homeserver.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * Presence that times out by itself, with Synapse's rules on short timers: a user whose syncs
 * stopped goes offline, an idle one goes unavailable, activity brings them back, and a
 * long-poll in flight keeps them online however long it lasts. On PostgreSQL with REDIS_URL the
 * server has Redis, as a deployment would, and keeps who is syncing there.
 */

const TIMERS = {
  idle_timeout_ms: 6_000,
  sync_online_timeout_ms: 800,
  last_active_granularity_ms: 1_000,
  sweep_interval_ms: 100,
  sync_heartbeat_interval_ms: 100,
};

const REDIS = { url: TEST_DB === 'postgres' ? (process.env.REDIS_URL ?? null) : null };

const {
  users: [mate, gone, idler, stayer],
} = withHomeserver({ users: ['pt_mate', 'pt_gone', 'pt_idler', 'pt_stayer'], config: { presence: TIMERS, redis: REDIS } });

let roomId: string;
beforeAll(async () => {
  roomId = await createRoom(mate, { preset: 'public_chat' });
  for (const u of [gone, idler, stayer]) await joinRoom(u, roomId);
});

/** A long-poll that nothing but the room wakes: its own presence changes do not end it. */
const NO_PRESENCE = { presence: { types: [] } };
const statusOf = async (viewer: TestUser, user: TestUser) => ok(await viewer.client.get(`${CS}/presence/${enc(user.userId)}/status`));

/** The mate's view of `user` becoming `state`, checked against the spec. */
async function seenBecoming(since: string, user: TestUser, state: string, withinMs = 20_000) {
  const seen = await syncUntil(mate, since, (b) => presenceOf(b, user.userId).find((e) => e.content.presence === state), { withinMs });
  expectMatchesSpec('sync.yaml', '/sync', 'GET', 200, seen.body);
  expectMatchesSchemaFile('../../event-schemas/schema/m.presence.yaml', seen.value);
  return seen;
}

describe('presence timeouts', () => {
  it('a user who stops syncing goes offline after the sync timeout, and a room-mate’s /sync shows it', async () => {
    const since = await syncToken(mate);
    const first = await syncOk(gone);
    expect(presenceOf(first, gone.userId)[0]?.content.presence).toBe('online');
    const ended = Date.now();

    await seenBecoming(since, gone, 'offline');
    expect(Date.now() - ended).toBeGreaterThanOrEqual(TIMERS.sync_online_timeout_ms);
    const status = await statusOf(mate, gone);
    expect(status.presence).toBe('offline');
    expect(status.currently_active).toBeUndefined();
  });

  it('an idle user who keeps syncing goes unavailable, not offline; sending a message brings them back online', async () => {
    const since = await syncToken(mate);
    const first = await syncOk(idler);
    // The long-poll begins with the user active (set_presence=online) and then nothing happens.
    const began = Date.now();
    let polling = true;
    const poll = sync(idler, { since: first.next_batch, timeout: 20_000, filter: NO_PRESENCE }).finally(() => (polling = false));

    const idle = await seenBecoming(since, idler, 'unavailable');
    expect(Date.now() - began).toBeGreaterThanOrEqual(TIMERS.idle_timeout_ms);
    expect(polling).toBe(true);
    // Still syncing: however long past the sync timeout, not offline.
    await sleep(3 * TIMERS.sync_online_timeout_ms);
    expect(polling).toBe(true);
    expect((await statusOf(mate, idler)).presence).toBe('unavailable');

    await sendText(idler, roomId, 'back at the keyboard');
    const back = await seenBecoming(idle.body.next_batch as string, idler, 'online');
    expect(back.value.content.currently_active).toBe(true);
    // The message reached the long-poll, which was held open all along.
    expect(ok(await poll).rooms.join[roomId].timeline.events.map((e: { type: string }) => e.type)).toContain('m.room.message');
  });

  it('a long-poll in flight keeps the user online past the sync timeout; once it ends they go offline', async () => {
    const since = await syncToken(mate);
    const first = await syncOk(stayer);
    let polling = true;
    const poll = sync(stayer, { since: first.next_batch, timeout: 4_500, filter: NO_PRESENCE }).finally(() => (polling = false));

    await sleep(3 * TIMERS.sync_online_timeout_ms);
    expect(polling).toBe(true);
    expect((await statusOf(mate, stayer)).presence).toBe('online');
    const meanwhile = await syncOk(mate, { since, set_presence: 'offline' });
    expect(presenceOf(meanwhile, stayer.userId).map((e) => e.content.presence)).not.toContain('offline');

    ok(await poll);
    await seenBecoming(meanwhile.next_batch as string, stayer, 'offline');
  });
});

describe('presence timers at shutdown', () => {
  it('stop after the server stopped answering, and before the database closes', async () => {
    const t = await startTestHomeserver({ presence: TIMERS, redis: REDIS });
    try {
      const user = await registerUser(t.url, 'pt_closer');
      const first = await syncOk(user);
      const waiting = sync(user, { since: first.next_batch, timeout: 30_000 });
      await sleep(300);
      const report = await t.hs.close();
      ok(await waiting);
      const names = report.map((r) => r.name);
      expect(report.find((r) => r.name === 'presence-timers')?.outcome).toBe('stopped');
      expect(names.indexOf('presence-timers')).toBeGreaterThan(names.indexOf('http'));
      expect(names.indexOf('presence-timers')).toBeLessThan(names.indexOf('database'));
      // The last heartbeat renews its leases in Redis, when the server has it: still connected then.
      if (REDIS.url) expect(names.indexOf('presence-timers')).toBeLessThan(names.indexOf('redis'));
    } finally {
      await t.close();
    }
  });
});
