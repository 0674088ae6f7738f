import { describe, expect, it } from 'vitest';
import { sleep } from '../support/accounts.ts';
import { CS, createRoom, enc, ok, roomPath } from '../support/rooms.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * Client transaction ids are remembered for housekeeping.transaction_ids_kept_ms (a day by
 * default): a retry within it is not done twice, and what is older is forgotten, so the tables
 * do not grow with every send for ever. Here the clean-up runs every 100 ms and rows are aged
 * by hand rather than waited for.
 */

const {
  hs,
  users: [alice],
} = withHomeserver({ users: ['tx_alice'], config: { housekeeping: { interval_ms: 100, transaction_ids_kept_ms: 3_600_000 } } });

const sql = () => hs.hs.db.sql;
// A send's stored key also names its room and event type (a JSON array ending with the txnId).
const txnCondition = (table: 'event_txns' | 'to_device_txns') => (table === 'event_txns' ? `txn_id like '%' || $1 || '"]'` : 'txn_id = $1');
const count = async (table: 'event_txns' | 'to_device_txns', txnId: string) =>
  (await sql().unsafe<{ n: number }[]>(`select count(*)::int as n from ${table} where ${txnCondition(table)}`, [txnId]))[0]!.n;
const age = (table: 'event_txns' | 'to_device_txns', txnId: string) =>
  sql().unsafe(`update ${table} set created_at = now() - interval '2 hours' where ${txnCondition(table)}`, [txnId]);

async function until(what: string, probe: () => Promise<boolean>, withinMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + withinMs; !(await probe()); await sleep(50)) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
  }
}

describe('transaction ids', () => {
  it('a send retried within the time kept is the same event; an expired id is forgotten and a retry sends again', async () => {
    const roomId = await createRoom(alice);
    const send = async (txnId: string) =>
      ok(await alice.client.put(roomPath(roomId, `/send/m.room.message/${enc(txnId)}`), { msgtype: 'm.text', body: txnId }))
        .event_id as string;
    const first = await send('old-txn');
    expect(await send('old-txn')).toBe(first);
    const recent = await send('recent-txn');

    // A day passes for the first one only.
    expect(await count('event_txns', 'old-txn')).toBe(1);
    await age('event_txns', 'old-txn');
    await until('the expired id to be forgotten', async () => (await count('event_txns', 'old-txn')) === 0);
    expect(await count('event_txns', 'recent-txn')).toBe(1);
    expect(await send('recent-txn')).toBe(recent);
    expect(await send('old-txn')).not.toBe(first);
  });

  it('to-device transaction ids likewise', async () => {
    const put = (txnId: string) =>
      alice.client.put(`${CS}/sendToDevice/m.test/${enc(txnId)}`, { messages: { [alice.userId]: { [alice.deviceId]: { n: 1 } } } });
    ok(await put('old-td'));
    ok(await put('recent-td'));
    expect(await count('to_device_txns', 'old-td')).toBe(1);
    await age('to_device_txns', 'old-td');
    await until('the expired to-device id to be forgotten', async () => (await count('to_device_txns', 'old-td')) === 0);
    expect(await count('to_device_txns', 'recent-td')).toBe(1);
  });
});
