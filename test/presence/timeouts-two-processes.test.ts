import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/accounts.ts';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { startTestHomeserver, TEST_DB, type TestHomeserver } from '../support/homeserver.ts';
import { createRoom, CS, enc, joinRoom, ok, sync, syncOk } from '../support/rooms.ts';

/**
 * Two processes of one deployment on one PostgreSQL, each sweeping for timed-out users: a user
 * whose long-poll is on process A is syncing, and process B, which has never seen that request,
 * must not set them offline. Once the long-poll ends, B does. PostgreSQL only (PGlite is one
 * process's database); Redis when the run has it, as a deployment would.
 */

const TIMERS = {
  idle_timeout_ms: 60_000,
  sync_online_timeout_ms: 800,
  last_active_granularity_ms: 30_000,
  sweep_interval_ms: 100,
  sync_heartbeat_interval_ms: 100,
};

describe.skipIf(TEST_DB !== 'postgres')('presence timeouts across processes', () => {
  let a: TestHomeserver;
  let b: TestHomeserver;
  let syncer: TestUser;
  let mate: TestUser;

  beforeAll(async () => {
    const overrides = { presence: TIMERS, redis: { url: process.env.REDIS_URL ?? null } };
    a = await startTestHomeserver(overrides);
    b = await startTestHomeserver(overrides, { sameDeploymentAs: a });
    syncer = await registerUser(a.url, 'pt2_syncer');
    mate = await registerUser(a.url, 'pt2_mate');
    const roomId = await createRoom(mate, { preset: 'public_chat' });
    await joinRoom(syncer, roomId);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** The syncer's presence as the mate reads it from process B. */
  const seenOnB = async () =>
    ok(await new ApiClient(b.url, mate.accessToken).get(`${CS}/presence/${enc(syncer.userId)}/status`)).presence as string;

  it('a long-poll on A keeps the user online on B; B sets them offline once it ends', async () => {
    const first = await syncOk(syncer);
    let polling = true;
    const poll = sync(syncer, { since: first.next_batch, timeout: 4_500, filter: { presence: { types: [] } } }).finally(
      () => (polling = false),
    );

    // Many sweeps of both processes, well past the sync timeout.
    await sleep(3 * TIMERS.sync_online_timeout_ms);
    expect(polling).toBe(true);
    expect(await seenOnB()).toBe('online');

    ok(await poll);
    const deadline = Date.now() + 15_000;
    while ((await seenOnB()) !== 'offline') {
      if (Date.now() > deadline) throw new Error('the user never went offline after their long-poll ended');
      await sleep(100);
    }
  });
});
