import { describe, expect, it } from 'vitest';
import { passwordAuth } from '../support/accounts.ts';
import { ApiClient, registerUser } from '../support/client.ts';
import { CS, createRoom, enc, getState, inviteUser, joinRoom, leaveRoom, ok } from '../support/rooms.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * Account changes reach rooms through domain events (account.deactivated,
 * account.profile_changed) and the rooms component's consumers. They are handled
 * after the HTTP response, as Synapse does, so the checks wait, within a bound.
 */

const {
  hs,
  users: [alice],
} = withHomeserver({ users: ['ac_alice'] });

async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const member = (roomId: string, userId: string) => getState(alice, roomId, 'm.room.member', userId);

const metricsText = async () => (await fetch(`${hs.url}/metrics`)).text();

describe('deactivation', () => {
  it('makes the user leave every room they were joined or invited to', async () => {
    const bob = await registerUser(hs.url, 'ac_bob');
    const publicA = await createRoom(alice, { preset: 'public_chat' });
    const publicB = await createRoom(alice, { preset: 'public_chat' });
    const invitedTo = await createRoom(alice, { preset: 'private_chat' });
    await joinRoom(bob, publicA);
    await joinRoom(bob, publicB);
    await inviteUser(alice, invitedTo, bob.userId);

    const challenge = await bob.client.post(`${CS}/account/deactivate`, {});
    ok(await bob.client.post(`${CS}/account/deactivate`, { auth: passwordAuth(bob.userId, bob.password, challenge.body.session) }));

    for (const roomId of [publicA, publicB, invitedTo]) {
      const m = await eventually(
        () => member(roomId, bob.userId),
        (c) => c.membership === 'leave',
        `bob to leave ${roomId}`,
      );
      expect(m.membership).toBe('leave');
    }
    const joined = await bob.client.get(`${CS}/joined_rooms`);
    expect(joined.status).toBe(401);
    expect(await metricsText()).toMatch(
      /commcomms_domain_events_delivered_total\{consumer="rooms.leave_on_deactivation",type="account.deactivated"\} [1-9]/,
    );
    const [status] = await hs.hs.db.sql<{ attempts: number; last_error: string | null }[]>`
      select attempts, last_error from domain_event_consumers where name = 'rooms.leave_on_deactivation'`;
    expect(status).toEqual({ attempts: 0, last_error: null });
  });
});

describe('profile changes', () => {
  it('are announced as member events in every joined room, keeping the rest of the member content', async () => {
    const carol = await registerUser(hs.url, 'ac_carol');
    const one = await createRoom(alice, { preset: 'public_chat' });
    const two = await createRoom(alice, { preset: 'public_chat' });
    const left = await createRoom(alice, { preset: 'public_chat' });
    for (const r of [one, two, left]) await joinRoom(carol, r);
    await leaveRoom(carol, left);
    ok(
      await carol.client.put(`${CS}/rooms/${enc(two)}/state/m.room.member/${enc(carol.userId)}`, {
        membership: 'join',
        'org.example.badge': 'gold',
      }),
    );

    ok(await carol.client.put(`${CS}/profile/${enc(carol.userId)}/displayname`, { displayname: 'Carol C.' }));
    ok(await carol.client.put(`${CS}/profile/${enc(carol.userId)}/avatar_url`, { avatar_url: 'mxc://localhost/carol' }));

    for (const roomId of [one, two]) {
      const m = await eventually(
        () => member(roomId, carol.userId),
        (c) => c.displayname === 'Carol C.' && c.avatar_url === 'mxc://localhost/carol',
        `carol's profile in ${roomId}`,
      );
      expect(m.membership).toBe('join');
    }
    expect(await member(two, carol.userId)).toMatchObject({ 'org.example.badge': 'gold' });
    // A room she left is not re-joined by the announcement.
    expect((await member(left, carol.userId)).membership).toBe('leave');

    // Unsetting the display name takes it out of the member events too.
    ok(await carol.client.put(`${CS}/profile/${enc(carol.userId)}/displayname`, { displayname: null }));
    const unset = await eventually(
      () => member(one, carol.userId),
      (c) => !('displayname' in c),
      'the display name to be unset',
    );
    expect(unset).toMatchObject({ membership: 'join', avatar_url: 'mxc://localhost/carol' });
  });

  it('an account deactivated before its profile change is handled is not put back in its rooms', async () => {
    const dave = await registerUser(hs.url, 'ac_dave');
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(dave, roomId);
    ok(await dave.client.put(`${CS}/profile/${enc(dave.userId)}/displayname`, { displayname: 'Dave D.' }));
    const challenge = await dave.client.post(`${CS}/account/deactivate`, {});
    ok(await dave.client.post(`${CS}/account/deactivate`, { auth: passwordAuth(dave.userId, dave.password, challenge.body.session) }));
    await eventually(
      () => member(roomId, dave.userId),
      (c) => c.membership === 'leave',
      'dave to leave',
    );
    // Both consumers are past both events: nothing later re-joins him.
    await eventually(
      async () => hs.hs.db.sql<{ n: number }[]>`
        select count(*)::int as n from domain_event_consumers
        where position < (select coalesce(max(id), 0) from domain_event_outbox)`,
      (rows) => rows[0]!.n === 0,
      'the consumers to catch up',
    );
    expect((await member(roomId, dave.userId)).membership).toBe('leave');
    expect((await new ApiClient(hs.url).get(`${CS}/profile/${enc(dave.userId)}`)).status).toBe(404);
  });
});
