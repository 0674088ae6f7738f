import { afterEach, describe, expect, it } from 'vitest';
import { registerUser } from '../support/client.ts';
import { startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';

/**
 * Closing a homeserver in process: the composition root's lifecycle stops HTTP first
 * (answering long-polls, letting requests finish) and the database last, and says how
 * each component's stop went.
 */

let t: TestHomeserver | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('shutdown', () => {
  it('answers a waiting long-poll, then stops every component in reverse start order', async () => {
    t = await startTestHomeserver();
    const alice = await registerUser(t.url, 'sd_alice');
    const first = await alice.client.get('/_matrix/client/v3/sync?timeout=0');
    expect(first.status).toBe(200);

    const began = Date.now();
    const waiting = alice.client.get(`/_matrix/client/v3/sync?timeout=30000&since=${encodeURIComponent(first.body.next_batch)}`);
    // Let the long-poll reach the server and park.
    await new Promise((r) => setTimeout(r, 300));
    const report = await t.hs.close();

    const answered = await waiting;
    expect(answered.status).toBe(200);
    expect(answered.body.next_batch).toBeTypeOf('string');
    expect(Date.now() - began).toBeLessThan(15_000); // not held for its 30 s timeout

    const names = report.map((r) => r.name);
    expect(names[0]).toBe('http');
    expect(names.at(-1)).toBe('database');
    expect(names).toEqual(expect.arrayContaining(['domain-events', 'notifier', 'typing', 'listeners']));
    expect(names.indexOf('domain-events')).toBeLessThan(names.indexOf('database'));
    expect(report.filter((r) => r.outcome !== 'stopped')).toEqual([]);

    // Closing again is the same close, and the port no longer answers.
    expect(await t.hs.close()).toBe(report);
    await expect(fetch(`${t.url}/_matrix/client/versions`)).rejects.toThrow();
  });
});
