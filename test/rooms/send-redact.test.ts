import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError, passwordLogin } from '../support/accounts.ts';
import { ApiClient, type TestUser } from '../support/client.ts';
import {
  createRoom,
  enc,
  getStateEvent,
  joinRoom,
  messages,
  newTxnId,
  ok,
  roomPath,
  sendEvent,
  sendText,
  setState,
  syncOk,
} from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** PUT /send (idempotent per device and txnId) and PUT /redact: who may, and what redaction leaves, per room version. */

const {
  hs,
  users: [alice, bob, eve],
} = withHomeserver({ users: ['sr_alice', 'sr_bob', 'sr_eve'] });
let aliceOtherDevice: TestUser;
let roomId: string; // public_chat, alice 100, bob 0
beforeAll(async () => {
  const login = ok(await passwordLogin(hs.url, 'sr_alice', alice.password));
  aliceOtherDevice = {
    ...alice,
    deviceId: login.device_id,
    accessToken: login.access_token,
    client: new ApiClient(hs.url, login.access_token),
  };
  expect(aliceOtherDevice.deviceId).not.toBe(alice.deviceId);
  roomId = await createRoom(alice, { preset: 'public_chat' });
  await joinRoom(bob, roomId);
});

const eventRows = async (room: string): Promise<number> =>
  Number((await hs.hs.db.sql`select count(*)::int as n from events where room_id = ${room}`)[0]!.n);
const getEvent = (user: TestUser, room: string, eventId: string) => user.client.get(roomPath(room, `/event/${enc(eventId)}`));

describe('PUT /rooms/{roomId}/send/{eventType}/{txnId}', () => {
  it('sends a message that the room can read back, matching the spec', async () => {
    const res = await alice.client.put(roomPath(roomId, `/send/m.room.message/${newTxnId()}`), { msgtype: 'm.text', body: 'hello' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectMatchesSpec('room_send.yaml', '/rooms/{roomId}/send/{eventType}/{txnId}', 'PUT', 200, res.body);
    const ev = await getEvent(bob, roomId, res.body.event_id);
    expect(ev.status).toBe(200);
    expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/event/{eventId}', 'GET', 200, ev.body);
    expect(ev.body).toMatchObject({
      event_id: res.body.event_id,
      type: 'm.room.message',
      sender: alice.userId,
      room_id: roomId,
      content: { body: 'hello' },
    });
    expect(ev.body).not.toHaveProperty('state_key');
    // Custom event types are fine too.
    const custom = await sendEvent(bob, roomId, 'org.example.ping', { n: 1 });
    expect(ok(await getEvent(alice, roomId, custom)).content).toEqual({ n: 1 });
  });

  it('the same txnId from the same device returns the same event_id and stores one event', async () => {
    const txn = newTxnId('idem');
    const before = await eventRows(roomId);
    const first = ok(await alice.client.put(roomPath(roomId, `/send/m.room.message/${txn}`), { msgtype: 'm.text', body: 'once' }));
    const second = ok(await alice.client.put(roomPath(roomId, `/send/m.room.message/${txn}`), { msgtype: 'm.text', body: 'once' }));
    // Even concurrent retries.
    const more = await Promise.all(
      [1, 2, 3, 4, 5].map(() => alice.client.put(roomPath(roomId, `/send/m.room.message/${txn}`), { msgtype: 'm.text', body: 'once' })),
    );
    expect(second.event_id).toBe(first.event_id);
    for (const r of more) expect(ok(r).event_id).toBe(first.event_id);
    expect(await eventRows(roomId)).toBe(before + 1);
    const rows = await hs.hs.db.sql`select event_id from events where room_id = ${roomId} and txn_id = ${txn}`;
    expect(rows.map((r) => r.event_id)).toEqual([first.event_id]);
  });

  it('concurrent first sends of one txnId still create one event', async () => {
    const txn = newTxnId('race');
    const before = await eventRows(roomId);
    const replies = await Promise.all(
      Array.from({ length: 8 }, () =>
        alice.client.put(roomPath(roomId, `/send/m.room.message/${txn}`), { msgtype: 'm.text', body: 'race' }),
      ),
    );
    const ids = new Set(replies.map((r) => ok(r).event_id));
    expect(ids.size).toBe(1);
    expect(await eventRows(roomId)).toBe(before + 1);
  });

  it('concurrent sends to one room are written together, and one refused fails alone', async () => {
    const batches = async () => {
      const text = await (await fetch(`${hs.url}/metrics`)).text();
      const figure = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { count: figure('commcomms_send_batch_events_count'), sum: figure('commcomms_send_batch_events_sum') };
    };
    const before = await eventRows(roomId);
    const metricsBefore = await batches();
    const dupTxn = newTxnId('burst-dup');
    const send = (u: TestUser, txn: string, body: string) =>
      u.client.put(roomPath(roomId, `/send/m.room.message/${txn}`), { msgtype: 'm.text', body });
    const replies = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => send(alice, i === 0 ? dupTxn : newTxnId('burst'), `alice ${i}`)),
      send(eve, newTxnId('burst'), 'not a member'),
      ...Array.from({ length: 10 }, (_, i) => send(bob, newTxnId('burst'), `bob ${i}`)),
      send(alice, dupTxn, 'alice 0'),
      send(eve, newTxnId('burst'), 'still not a member'),
      send(alice, dupTxn, 'alice 0'),
    ]);
    const [aliceReplies, eveFirst, bobReplies, dupReplies] = [replies.slice(0, 10), replies[10]!, replies.slice(11, 21), replies.slice(21)];
    expectMatrixError(eveFirst, 403, 'M_FORBIDDEN');
    expectMatrixError(dupReplies[1]!, 403, 'M_FORBIDDEN');
    const ids = [...aliceReplies, ...bobReplies].map((r) => ok(r).event_id as string);
    expect(new Set(ids).size).toBe(20);
    for (const r of [dupReplies[0]!, dupReplies[2]!]) expect(ok(r).event_id).toBe(ids[0]);
    expect(await eventRows(roomId)).toBe(before + 20);
    // Every acknowledged event reads back as its sender sent it.
    for (const [i, id] of ids.entries()) {
      expect(ok(await getEvent(alice, roomId, id)).content).toEqual({ msgtype: 'm.text', body: i < 10 ? `alice ${i}` : `bob ${i - 10}` });
    }
    // Fewer transactions than sends: they queued behind each other and went in batches.
    const metricsAfter = await batches();
    expect(metricsAfter.sum - metricsBefore.sum).toBe(24);
    expect(metricsAfter.count - metricsBefore.count).toBeLessThan(24);
  });

  it('the same txnId from another device, or another user, is another event', async () => {
    const txn = newTxnId('devices');
    const before = await eventRows(roomId);
    const a = await sendText(alice, roomId, 'device one', txn);
    const b = await sendText(aliceOtherDevice, roomId, 'device two', txn);
    const c = await sendText(bob, roomId, 'bob', txn);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(await eventRows(roomId)).toBe(before + 3);
    expect(ok(await getEvent(bob, roomId, b)).content.body).toBe('device two');
  });

  it('the same txnId on another path (another room, another event type) is not a retransmission', async () => {
    const other = await createRoom(alice, { preset: 'public_chat' });
    const txn = newTxnId('paths');
    const inFirst = await sendText(alice, roomId, 'first room', txn);
    const inOther = await sendText(alice, other, 'other room', txn);
    expect(inOther).not.toBe(inFirst);
    expect(ok(await getEvent(alice, other, inOther)).content.body).toBe('other room');
    const otherType = await sendEvent(alice, roomId, 'org.example.other', { x: 1 }, txn);
    expect(otherType).not.toBe(inFirst);
    expect(ok(await getEvent(alice, roomId, otherType)).type).toBe('org.example.other');
  });

  it('echoes transaction_id to the sending device only', async () => {
    const start = await syncOk(alice);
    const startOther = await syncOk(aliceOtherDevice);
    const startBob = await syncOk(bob);
    const txn = newTxnId('echo');
    const eventId = await sendText(alice, roomId, 'echo me', txn);
    const find = (body: Record<string, any>) =>
      (body.rooms.join[roomId].timeline.events as Array<Record<string, any>>).find((e) => e.event_id === eventId)!;
    expect(find(await syncOk(alice, { since: start.next_batch })).unsigned.transaction_id).toBe(txn);
    expect(find(await syncOk(aliceOtherDevice, { since: startOther.next_batch })).unsigned).not.toHaveProperty('transaction_id');
    expect(find(await syncOk(bob, { since: startBob.next_batch })).unsigned).not.toHaveProperty('transaction_id');
  });

  it('a non-member gets M_FORBIDDEN, and nothing is stored', async () => {
    const before = await eventRows(roomId);
    expectMatrixError(
      await eve.client.put(roomPath(roomId, `/send/m.room.message/${newTxnId()}`), { msgtype: 'm.text', body: 'let me' }),
      403,
      'M_FORBIDDEN',
    );
    // Nor in an invite-only room where eve is merely invited.
    const priv = await createRoom(alice, { preset: 'private_chat', invite: [eve.userId] });
    expectMatrixError(
      await eve.client.put(roomPath(priv, `/send/m.room.message/${newTxnId()}`), { msgtype: 'm.text', body: 'x' }),
      403,
      'M_FORBIDDEN',
    );
    expect(await eventRows(roomId)).toBe(before);
  });

  it('a member below events_default or the event type level gets M_FORBIDDEN', async () => {
    const room = await createRoom(alice, {
      preset: 'public_chat',
      power_level_content_override: { events: { 'org.example.restricted': 50 } },
    });
    await joinRoom(bob, room);
    await sendEvent(bob, room, 'org.example.open', { ok: true });
    expectMatrixError(await bob.client.put(roomPath(room, `/send/org.example.restricted/${newTxnId()}`), {}), 403, 'M_FORBIDDEN');
    const pl = ok(await alice.client.get(roomPath(room, '/state/m.room.power_levels/')));
    await setState(alice, room, 'm.room.power_levels', '', { ...pl, events_default: 10 });
    expectMatrixError(
      await bob.client.put(roomPath(room, `/send/m.room.message/${newTxnId()}`), { msgtype: 'm.text', body: 'muted' }),
      403,
      'M_FORBIDDEN',
    );
  });

  it('rejects bodies that are not JSON objects, redactions through /send, and events over 64 KiB', async () => {
    const path = roomPath(roomId, `/send/m.room.message/${newTxnId()}`);
    const raw = (text: string) =>
      alice.client.request('PUT', path, undefined, { raw: text, headers: { 'content-type': 'application/json' } });
    expectMatrixError(await raw('{"body": "unterminated'), 400, 'M_NOT_JSON');
    expectMatrixError(await raw('not json at all'), 400, 'M_NOT_JSON');
    expectMatrixError(await raw('[{"body": "x"}]'), 400, 'M_BAD_JSON');
    expectMatrixError(await raw('42'), 400, 'M_BAD_JSON');
    const redaction = await alice.client.put(roomPath(roomId, `/send/m.room.redaction/${newTxnId()}`), { redacts: '$x' });
    expect(redaction.status).toBe(400);
    const big = await alice.client.put(roomPath(roomId, `/send/m.room.message/${newTxnId()}`), {
      msgtype: 'm.text',
      body: 'x'.repeat(70_000),
    });
    expectMatrixError(big, 413, 'M_TOO_LARGE');
    expectMatrixError(
      await alice.client.put(roomPath(roomId, `/send/m.room.message/${newTxnId()}`), { body: 'x' }, { token: null }),
      401,
      'M_MISSING_TOKEN',
    );
  });
});

describe('PUT /rooms/{roomId}/redact/{eventId}/{txnId}', () => {
  it('the sender may redact their own event; content is pruned and unsigned.redacted_because shows the redaction', async () => {
    const target = await sendEvent(bob, roomId, 'm.room.message', { msgtype: 'm.text', body: 'oops', 'org.example.extra': { a: 1 } });
    const start = await syncOk(alice);
    const res = await bob.client.put(roomPath(roomId, `/redact/${enc(target)}/${newTxnId()}`), { reason: 'typo' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectMatchesSpec('redaction.yaml', '/rooms/{roomId}/redact/{eventId}/{txnId}', 'PUT', 200, res.body);
    const redactionId = res.body.event_id as string;

    const ev = ok(await getEvent(alice, roomId, target));
    expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/event/{eventId}', 'GET', 200, ev);
    expect(ev.content).toEqual({});
    expect(ev.unsigned.redacted_because).toMatchObject({
      event_id: redactionId,
      type: 'm.room.redaction',
      sender: bob.userId,
      content: { reason: 'typo' },
    });
    expect(ev.unsigned.redacted_because.redacts ?? ev.unsigned.redacted_because.content.redacts).toBe(target);

    // The redaction event itself, v11: `redacts` in content (and at top level for older clients).
    const redaction = ok(await getEvent(alice, roomId, redactionId));
    expect(redaction).toMatchObject({ type: 'm.room.redaction', content: { redacts: target, reason: 'typo' }, redacts: target });

    // /messages and incremental /sync show the pruned event and the redaction.
    const page = ok(await messages(alice, roomId, { dir: 'b', limit: 10 }));
    const inPage = (page.chunk as Array<Record<string, any>>).find((e) => e.event_id === target)!;
    expect(inPage.content).toEqual({});
    expect(inPage.unsigned.redacted_because.event_id).toBe(redactionId);
    const after = await syncOk(alice, { since: start.next_batch });
    const timeline = after.rooms.join[roomId].timeline.events as Array<Record<string, any>>;
    expect(timeline.find((e) => e.event_id === redactionId)).toMatchObject({ type: 'm.room.redaction', redacts: target });
    // The stored PDU is pruned too, not just the view of it.
    const [row] = await hs.hs.db.sql`select pdu, redacted_by from events where event_id = ${target}`;
    expect(row!.redacted_by).toBe(redactionId);
    expect(JSON.parse(row!.pdu).content).toEqual({});
  });

  it('the same redaction txnId returns the same redaction event', async () => {
    const target = await sendText(bob, roomId, 'to be redacted');
    const txn = newTxnId('redact');
    const first = ok(await bob.client.put(roomPath(roomId, `/redact/${enc(target)}/${txn}`), {}));
    const second = ok(await bob.client.put(roomPath(roomId, `/redact/${enc(target)}/${txn}`), {}));
    expect(second.event_id).toBe(first.event_id);
    // Another event redacted with the same txnId is another request (another path).
    const other = await sendText(bob, roomId, 'also redacted');
    const third = ok(await bob.client.put(roomPath(roomId, `/redact/${enc(other)}/${txn}`), {}));
    expect(third.event_id).not.toBe(first.event_id);
    expect(ok(await getEvent(alice, roomId, other)).unsigned.redacted_because?.event_id).toBe(third.event_id);
  });

  it("the redacting device sees its own txnId as the redaction's transaction_id", async () => {
    const target = await sendText(bob, roomId, 'redact with echo');
    const start = await syncOk(bob);
    const txn = newTxnId('redact-echo');
    const redactionId = ok(await bob.client.put(roomPath(roomId, `/redact/${enc(target)}/${txn}`), {})).event_id;
    const after = await syncOk(bob, { since: start.next_batch });
    const ev = (after.rooms.join[roomId].timeline.events as Array<Record<string, any>>).find((e) => e.event_id === redactionId);
    expect(ev?.unsigned.transaction_id).toBe(txn);
  });

  it("redacting someone else's event needs the redact power level", async () => {
    const aliceMsg = await sendText(alice, roomId, 'alice speaking');
    expectMatrixError(await bob.client.put(roomPath(roomId, `/redact/${enc(aliceMsg)}/${newTxnId()}`), {}), 403, 'M_FORBIDDEN');
    expect(ok(await getEvent(bob, roomId, aliceMsg)).content.body).toBe('alice speaking');
    expectMatrixError(await eve.client.put(roomPath(roomId, `/redact/${enc(aliceMsg)}/${newTxnId()}`), {}), 403, 'M_FORBIDDEN');
    // The room admin (100 >= redact 50) may redact bob's message.
    const bobMsg = await sendText(bob, roomId, 'bob speaking');
    ok(await alice.client.put(roomPath(roomId, `/redact/${enc(bobMsg)}/${newTxnId()}`), { reason: 'moderation' }));
    expect(ok(await getEvent(bob, roomId, bobMsg)).content).toEqual({});
  });

  it('rejects bad redaction bodies', async () => {
    const target = await sendText(bob, roomId, 'bad bodies');
    const path = roomPath(roomId, `/redact/${enc(target)}/${newTxnId()}`);
    expectMatrixError(
      await bob.client.request('PUT', path, undefined, { raw: '{', headers: { 'content-type': 'application/json' } }),
      400,
      'M_NOT_JSON',
    );
    expectMatrixError(await bob.client.put(path, { reason: 5 }), 400, 'M_BAD_JSON');
    expect(ok(await getEvent(bob, roomId, target)).content.body).toBe('bad bodies');
  });

  describe('what redaction keeps depends on the room version', () => {
    for (const version of ['10', '11'] as const) {
      it(`v${version}: messages lose all content, members keep membership, power levels keep ${version === '11' ? 'invite too' : 'no invite'}`, async () => {
        const room = await createRoom(alice, {
          room_version: version,
          preset: 'public_chat',
          power_level_content_override: { invite: 20, notifications: { room: 40 } },
        });
        await joinRoom(bob, room);
        ok(await bob.client.put(roomPath(room, `/state/m.room.member/${enc(bob.userId)}`), { membership: 'join', displayname: 'Bob B.' }));

        const msg = await sendEvent(bob, room, 'm.room.message', { msgtype: 'm.text', body: 'secret', format: 'org.matrix.custom.html' });
        ok(await alice.client.put(roomPath(room, `/redact/${enc(msg)}/${newTxnId()}`), {}));
        expect(ok(await getEvent(alice, room, msg)).content).toEqual({});

        const member = await getStateEvent(alice, room, 'm.room.member', bob.userId);
        ok(await alice.client.put(roomPath(room, `/redact/${enc(member.event_id)}/${newTxnId()}`), {}));
        const redactedMember = await getStateEvent(alice, room, 'm.room.member', bob.userId);
        expect(redactedMember.content).toEqual({ membership: 'join' });
        expect(redactedMember.unsigned.redacted_because).toBeDefined();

        const pl = await getStateEvent(alice, room, 'm.room.power_levels');
        ok(await alice.client.put(roomPath(room, `/redact/${enc(pl.event_id)}/${newTxnId()}`), {}));
        const redactedPl = (await getStateEvent(alice, room, 'm.room.power_levels')).content;
        expect(redactedPl).not.toHaveProperty('notifications');
        expect(redactedPl.users).toEqual({ [alice.userId]: 100 });
        if (version === '11') expect(redactedPl.invite).toBe(20);
        else expect(redactedPl).not.toHaveProperty('invite');

        const create = await getStateEvent(alice, room, 'm.room.create');
        ok(await alice.client.put(roomPath(room, `/redact/${enc(create.event_id)}/${newTxnId()}`), {}));
        const redactedCreate = (await getStateEvent(alice, room, 'm.room.create')).content;
        if (version === '11') expect(redactedCreate).toEqual({ room_version: '11' });
        else expect(redactedCreate).toEqual({ creator: alice.userId });

        // The room keeps working after its create and power levels were redacted.
        await sendText(bob, room, 'still here');
        const redactionEvent = ok(await alice.client.put(roomPath(room, `/redact/${enc(msg)}/${newTxnId()}`), {}));
        const redaction = ok(await getEvent(alice, room, redactionEvent.event_id));
        expect(redaction.redacts).toBe(msg);
        if (version === '11') expect(redaction.content.redacts).toBe(msg);
        else expect(redaction.content).not.toHaveProperty('redacts');
      });
    }
  });
});
