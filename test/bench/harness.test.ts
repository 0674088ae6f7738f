import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_SECRET, startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';
import { registerUsers, type Server } from './matrix.ts';
import { runFanout, tally } from './scenarios/fanout.ts';
import { WorkerPool } from './workers.ts';
import { parseProcStat } from './cpu.ts';
import { parseTps } from './pgbench.ts';
import { bestPeer } from './report.ts';
import type { TargetResult } from './run-target.ts';

/**
 * The bench checks itself: the fan-out scenario, at tiny scale against an in-process
 * test server, must count every sent event as delivered exactly once to every
 * long-polling client, through the same load-generator processes `npm run bench` uses.
 */

describe('bench harness: fan-out', () => {
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
