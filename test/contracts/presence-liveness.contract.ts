import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncLiveness } from '../../server/presence/liveness/sync-liveness.ts';

export interface SyncLivenessHarness {
  /** Two stores on the same data, as two server processes of one deployment hold them. */
  stores: [SyncLiveness, SyncLiveness];
  /** `n` users never seen before, who can hold a lease (the PostgreSQL engine needs their presence rows). */
  users(n: number): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * What every sync liveness engine (server/presence/liveness/) must do: leases that end by
 * themselves, renewed by several processes at once in any order, looked up in batches.
 * `setup` is called once per engine; each test uses users of its own.
 */
export function syncLivenessContract(name: string, setup: () => Promise<SyncLivenessHarness>): void {
  describe(`presence liveness contract: ${name}`, () => {
    let h: SyncLivenessHarness;
    beforeAll(async () => {
      h = await setup();
    }, 120_000);
    afterAll(async () => {
      await h?.close();
    });

    it('a renewed lease is live until it ends (its end included), and not after', async () => {
      const [a] = h.stores;
      const [u] = await h.users(1);
      const t = Date.now();
      await a.renew([{ userId: u!, until: t + 10_000 }]);
      expect(await a.live([u!], t)).toEqual(new Set([u]));
      expect(await a.live([u!], t + 10_000)).toEqual(new Set([u]));
      expect(await a.live([u!], t + 10_001)).toEqual(new Set());
    });

    it('renewing moves the end forward', async () => {
      const [a] = h.stores;
      const [u] = await h.users(1);
      const t = Date.now();
      await a.renew([{ userId: u!, until: t + 1_000 }]);
      await a.renew([{ userId: u!, until: t + 5_000 }]);
      expect(await a.live([u!], t + 3_000)).toEqual(new Set([u]));
      expect(await a.live([u!], t + 5_001)).toEqual(new Set());
    });

    it('an earlier end (another process, a late heartbeat) never shortens a lease, seen from either process', async () => {
      const [a, b] = h.stores;
      const [u] = await h.users(1);
      const t = Date.now();
      await a.renew([{ userId: u!, until: t + 10_000 }]);
      await b.renew([{ userId: u!, until: t + 1_000 }]);
      await a.renew([{ userId: u!, until: t + 2_000 }]);
      for (const s of [a, b]) expect(await s.live([u!], t + 5_000)).toEqual(new Set([u]));
    });

    it('two processes renewing the same users at once: the latest end of each holds, in whatever order they land', async () => {
      const [a, b] = h.stores;
      const users = await h.users(5);
      const t = Date.now();
      // Each renewal names every user, with ends shuffled: 20 heartbeats of two processes racing.
      const ends = Array.from({ length: 20 }, (_, i) => users.map((_, j) => t + 1_000 * (((i * 7 + j * 3) % 20) + 1)));
      await Promise.all(ends.map((row, i) => (i % 2 ? a : b).renew(users.map((userId, j) => ({ userId, until: row[j]! })))));
      const latest = t + 20_000;
      for (const s of [a, b]) {
        expect(await s.live(users, latest)).toEqual(new Set(users));
        expect(await s.live(users, latest + 1)).toEqual(new Set());
      }
    });

    it('one renewal and one look-up for many users: only those with a live lease are named', async () => {
      const [a, b] = h.stores;
      // More than a sweeper looks up at once (500), as a heartbeat may renew.
      const users = await h.users(600);
      const t = Date.now();
      const renewed = users.filter((_, i) => i % 2 === 0);
      const ended = users.filter((_, i) => i % 4 === 1);
      await a.renew([...renewed.map((userId) => ({ userId, until: t + 60_000 })), ...ended.map((userId) => ({ userId, until: t - 1 }))]);
      expect(await b.live(users, t)).toEqual(new Set(renewed));
      expect(await b.live([...renewed.slice(0, 3), '@never-renewed:x'], t)).toEqual(new Set(renewed.slice(0, 3)));
    });

    it('empty batches: nothing to renew, nobody to look up', async () => {
      const [a] = h.stores;
      await a.renew([]);
      expect(await a.live([], Date.now())).toEqual(new Set());
    });

    it('a batch that names a user twice keeps the later end', async () => {
      const [a] = h.stores;
      const [u] = await h.users(1);
      const t = Date.now();
      await a.renew([
        { userId: u!, until: t + 9_000 },
        { userId: u!, until: t + 3_000 },
      ]);
      expect(await a.live([u!], t + 6_000)).toEqual(new Set([u]));
    });

    it('an ended lease is not live for either process, and a renewal makes it live again', async () => {
      const [a, b] = h.stores;
      const [u, other] = await h.users(2);
      // A lease that has already ended when it lands (a heartbeat that came too late).
      await a.renew([{ userId: u!, until: Date.now() - 1 }]);
      expect(await b.live([u!], Date.now())).toEqual(new Set());
      // One that ends while we watch.
      await a.renew([
        { userId: u!, until: Date.now() + 300 },
        { userId: other!, until: Date.now() + 60_000 },
      ]);
      expect(await b.live([u!, other!], Date.now())).toEqual(new Set([u, other]));
      await expect.poll(async () => [...(await b.live([u!, other!], Date.now()))], { timeout: 5_000 }).toEqual([other]);
      // The process that still has a sync in flight renews it.
      await b.renew([{ userId: u!, until: Date.now() + 60_000 }]);
      expect(await a.live([u!, other!], Date.now())).toEqual(new Set([u, other]));
    });
  });
}
