import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_SECRET, startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';
import { registerUsers, type Server } from './matrix.ts';
import { runFanout, tally } from './scenarios/fanout.ts';
import { claimProblems, runKeysClaim, tallyClaims, type UploadedKeys } from './scenarios/keys-claim.ts';
import { makeTestJpeg, runMedia } from './scenarios/media.ts';
import { pageProblems, runSearch } from './scenarios/search.ts';
import { COMMON_WORD, makeMessage, prng, RARE_WORD, VOCABULARY, wordsOf } from './scenarios/search-text.ts';
import { uniqueJpeg } from './worker-loads.ts';
import { WorkerPool } from './workers.ts';
import { parseProcStat } from './cpu.ts';
import { parseTps } from './pgbench.ts';
import { bestPeer } from './report.ts';
import type { TargetResult } from './run-target.ts';

/**
 * The bench checks itself: the fan-out, keys-claim, media and search scenarios, at tiny
 * scale against an in-process test server, through the same load-generator processes
 * `npm run bench` uses, must find the server's answers right (every event delivered
 * exactly once, no one-time key handed out twice, ...); and the accounting that decides
 * what is right must fail on answers that are wrong.
 */

describe('bench harness: scenarios against a test server', () => {
  let hs: TestHomeserver;
  let pool: WorkerPool;
  let server: Server;

  beforeAll(async () => {
    hs = await startTestHomeserver();
    server = { url: hs.url, sharedSecret: SHARED_SECRET };
    pool = await WorkerPool.start(2);
  });
  afterAll(async () => {
    await pool?.close();
    await hs?.close();
  });

  it('delivers every event to every long-polling client exactly once', async () => {
    const [sender, ...clients] = await registerUsers(server, 6, 'harness', 3);
    const r = await runFanout({
      server,
      pool,
      sender: sender!,
      clients,
      scale: { clients: 5, messages: 4, intervalMs: 50 },
      setupConcurrency: 3,
      pollTimeoutMs: 10_000,
    });
    expect(r.errors).toEqual([]);
    // Four measured messages plus the warm-up, to each of five clients.
    expect(r.expected).toBe(25);
    expect(r.delivered).toBe(25);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    expect(r.delayMs.count).toBe(20);
    expect(r.delayMs.p99).toBeGreaterThanOrEqual(0);
  });

  it('keys-claim: hands out every one-time key once, then the fallback keys', async () => {
    const users = await registerUsers(server, 7, 'harness-keys', 3);
    const r = await runKeysClaim({
      server,
      pool,
      users,
      scale: { devices: 3, keysPerDevice: 5, claimers: 4, claims: 8 },
      setupConcurrency: 3,
    });
    expect(r.errors).toEqual([]);
    expect(r.problems).toEqual([]);
    expect(r.claims).toBe(8);
    // 5 one-time keys of each of 3 devices, then 3 claims of each device's fallback key.
    expect(r.tally).toMatchObject({ handedOut: 15, distinct: 15, duplicated: 0, fallbacks: 9, missing: 0, unused: 0 });
  });

  it('media: uploads, then thumbnails each upload, first and cached', async () => {
    const users = await registerUsers(server, 2, 'harness-media', 2);
    const r = await runMedia({
      server,
      pool,
      users,
      scale: { uploaders: 2, uploadsPerUploader: 2, imageKiB: 256, thumbnailConcurrency: 2, warmRounds: 2 },
    });
    expect(r.errors).toEqual([]);
    expect(r.upload.requests).toBe(4);
    expect(r.cold.requests).toBe(4);
    expect(r.warm.requests).toBe(8);
    expect(r.thumbnailBytes).toBeLessThan(r.image.bytes);
  });

  it('search: finds every message holding the word, or says it is not served', async () => {
    const users = await registerUsers(server, 4, 'harness-search', 2);
    const r = await runSearch({
      server,
      pool,
      users,
      scale: { senders: 4, rooms: 2, compareAt: 40, messages: 80, seedSeconds: 60, repeats: 1 },
      setupConcurrency: 2,
      log: () => {},
    });
    if (!r.served) {
      expect(r.reason).toMatch(/M_UNRECOGNIZED/);
      return;
    }
    expect(r.errors).toEqual([]);
    expect(r.problems).toEqual([]);
    expect(r.seeded).toBe(80);
    expect(r.atCompare?.messages).toBe(40);
    expect(r.atEnd?.messages).toBe(80);
    expect(r.atEnd?.queries['common recent']?.results).toBe(Math.min(10, r.atEnd!.holding.common));
  });

  it('fails the accounting when an event is lost or duplicated', () => {
    const all = (clients: number, seqs: number) =>
      Array.from({ length: clients * seqs }, (_, i) => [Math.floor(i / seqs), i % seqs, 0] as const);
    expect(tally(all(3, 2), 3, 2)).toEqual({ delivered: 6, lost: 0, duplicated: 0 });
    expect(tally(all(3, 2).slice(1), 3, 2)).toEqual({ delivered: 5, lost: 1, duplicated: 0 });
    expect(tally([...all(3, 2), [1, 1, 5]], 3, 2)).toEqual({ delivered: 7, lost: 0, duplicated: 1 });
    // A seq that was never sent, or a client that does not exist, is not a delivery either.
    expect(tally([...all(3, 2), [0, 7, 0], [9, 0, 0]], 3, 2).duplicated).toBe(2);
  });
});

describe('bench harness: keys-claim accounting', () => {
  const device = (n: number): UploadedKeys => ({
    oneTime: new Map(Array.from({ length: n }, (_, i) => [`otk${i}`, `k${i}`])),
    fallbackId: 'fb',
    fallbackKey: 'kfb',
  });
  const otk = (claim: number, dev: number, i: number) =>
    [claim, dev, `signed_curve25519:otk${i}`, `k${i}`] as [number, number, string, string];
  const fb = (claim: number, dev: number) => [claim, dev, 'signed_curve25519:fb', 'kfb'] as [number, number, string, string];

  it('passes keys handed out once, then the fallback', () => {
    const t = tallyClaims([otk(0, 0, 0), otk(1, 0, 1), fb(2, 0)], [device(2)], [0, 1, 2]);
    expect(t).toMatchObject({ handedOut: 2, distinct: 2, duplicated: 0, fallbacks: 1, fallbackEarly: 0, missing: 0, unused: 0 });
    expect(claimProblems(t)).toEqual([]);
  });

  it('fails a one-time key handed out twice', () => {
    const t = tallyClaims([otk(0, 0, 0), otk(1, 0, 0)], [device(2)], [0, 1]);
    expect(t.duplicated).toBe(1);
    expect(claimProblems(t).join()).toMatch(/handed out twice/);
  });

  it('fails the fallback key handed out while one-time keys are left', () => {
    const t = tallyClaims([otk(0, 0, 0), fb(1, 0)], [device(2)], [0, 1]);
    expect(t).toMatchObject({ fallbackEarly: 1, unused: 1 });
    expect(claimProblems(t).join()).toMatch(/fallback key handed out while one-time keys were left/);
  });

  it('fails keys never uploaded, a wrong value, and claims answered with nothing', () => {
    const t = tallyClaims(
      [[0, 0, 'signed_curve25519:otk9', 'k9'], [1, 0, 'signed_curve25519:otk0', 'not-k0'], otk(2, 0, 1), otk(2, 0, 0)],
      [device(2)],
      [0, 1, 2, 3],
    );
    // Claim 3 got nothing; claims 0 and 1 got a key, if not one the device uploaded.
    expect(t).toMatchObject({ unknown: 2, extra: 1, missing: 1, missingWithKeysLeft: 0 });
    // With no key left, a claim answered with nothing means there was no fallback key.
    expect(claimProblems(t).join()).toMatch(/not even the fallback key/);
    expect(tallyClaims([otk(0, 0, 0)], [device(2)], [0, 1]).missingWithKeysLeft).toBe(1);
  });
});

describe('bench harness: media and search inputs', () => {
  it('makes a JPEG near the size asked for, and unique copies of it that are still JPEGs', async () => {
    const jpeg = await makeTestJpeg(256);
    expect(Math.abs(jpeg.length - 256 * 1024)).toBeLessThan(26 * 1024);
    const a = uniqueJpeg(jpeg, 'a');
    expect(a.equals(uniqueJpeg(jpeg, 'b'))).toBe(false);
    const { default: sharp } = await import('sharp');
    expect(await sharp(a).metadata()).toMatchObject({ format: 'jpeg', width: 1024, height: 768 });
  });

  it('seeds words with Zipf frequencies, the searched ones found by no other word', () => {
    for (const term of [COMMON_WORD, RARE_WORD]) expect(VOCABULARY.filter((w) => w.startsWith(term))).toEqual([term]);
    const rnd = prng(7);
    const messages = Array.from({ length: 20_000 }, () => wordsOf(makeMessage(rnd)));
    const share = (w: string) => messages.filter((m) => m.includes(w)).length / messages.length;
    expect(share(COMMON_WORD)).toBeGreaterThan(0.04);
    expect(share(COMMON_WORD)).toBeLessThan(0.08);
    expect(share(RARE_WORD)).toBeGreaterThan(0.002);
    expect(share(RARE_WORD)).toBeLessThan(0.008);
  });

  it('checks a page of search results', () => {
    const page = (...bodies: string[]) => ({
      search_categories: { room_events: { results: bodies.map((body, i) => ({ result: { event_id: `$${i}`, content: { body } } })) } },
    });
    expect(pageProblems(page('A server.', 'The server is up.'), 'server', 2)).toEqual([]);
    expect(pageProblems(page('A server.'), 'server', 2).join()).toMatch(/1 results where 2 were due/);
    expect(pageProblems(page('A cloud.'), 'server', 1).join()).toMatch(/without 'server'/);
    expect(pageProblems(page('A server.'), 'server', 1, new Set(['$0'])).join()).toMatch(/on both pages/);
  });
});

describe('bench harness: figures', () => {
  it('reads utime + stime from /proc/<pid>/stat, command names with spaces and parentheses included', () => {
    const fields = ['S', ...Array.from({ length: 10 }, () => '0'), '250', '50', '0', '0'].join(' ');
    expect(parseProcStat(`1234 (postgres: a (b) c) ${fields}`, 100)).toBe(3000);
    expect(() => parseProcStat('1234 (x) S', 100)).toThrow();
  });

  it("takes pgbench's tps without the connection time", () => {
    const out = 'latency average = 11.1 ms\ninitial connection time = 40.2 ms\ntps = 4495.123456 (without initial connection time)\n';
    expect(parseTps(out)).toBeCloseTo(4495.12, 2);
    expect(parseTps('no result')).toBeUndefined();
  });

  it('compares each row with the best peer on that row', () => {
    const peer = (name: 'synapse' | 'dendrite', v: number) => ({ name, v }) as unknown as TargetResult;
    const value = (r: TargetResult) => (r as unknown as { v: number }).v;
    const peers = [peer('synapse', 40), peer('dendrite', 12)];
    expect(bestPeer({ better: 'higher', value }, peers)?.name).toBe('synapse');
    expect(bestPeer({ better: 'lower', value }, peers)?.name).toBe('dendrite');
    expect(bestPeer({ better: 'none', value }, peers)).toBeUndefined();
    // A peer without the figure (NaN, n/a) is not the best.
    expect(bestPeer({ better: 'lower', value }, [peer('synapse', Number.NaN), peer('dendrite', 30)])?.name).toBe('dendrite');
  });
});
