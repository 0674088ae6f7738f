import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimiter, RateRule } from '../../server/http/rate-limiter.ts';

/**
 * The one contract every RateLimiter implementation passes (in-process and Redis).
 * Time is injected through take()'s `now`, so nothing here sleeps or depends on
 * the wall clock. Each test uses keys of its own, so implementations that share
 * state between limiter instances (Redis) cannot leak one test into another.
 */
export type RateLimiterFactory = () => Promise<RateLimiter>;

/** An arbitrary fixed instant; tests move forward (and back) from it by hand. */
const T0 = 1_700_000_000_000;

async function takeMany(limiter: RateLimiter, key: string, rule: RateRule, n: number, now: number): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push((await limiter.take(key, rule, now)).allowed);
  return out;
}

const count = (xs: boolean[]) => xs.filter(Boolean).length;

export function rateLimiterContract(name: string, factory: RateLimiterFactory): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let limiter: RateLimiter;
    let key: (label: string) => string;
    beforeEach(async () => {
      limiter = await factory();
      const run = randomUUID();
      key = (label) => `${label}:${run}`;
    });
    afterEach(async () => {
      await limiter.close();
    });

    it('allows a full burst at once, then refuses', async () => {
      const rule = { per_second: 1, burst_count: 5 };
      const k = key('burst');
      expect(await takeMany(limiter, k, rule, 5, T0)).toEqual([true, true, true, true, true]);
      const refused = await limiter.take(k, rule, T0);
      expect(refused.allowed).toBe(false);
      // Still refused a moment later: a refusal does not spend or grant anything.
      expect((await limiter.take(k, rule, T0 + 10)).allowed).toBe(false);
    });

    it('an allowed take reports no wait', async () => {
      const d = await limiter.take(key('ok'), { per_second: 1, burst_count: 1 }, T0);
      expect(d).toEqual({ allowed: true, retryAfterMs: 0 });
    });

    it.each([
      { per_second: 1, burst_count: 3 },
      { per_second: 0.17, burst_count: 3 }, // the default login/register rule
      { per_second: 3, burst_count: 1 },
      { per_second: 50, burst_count: 10 },
    ])('retryAfterMs is positive, at most one token interval, and enough ($per_second/s, burst $burst_count)', async (rule) => {
      const k = key('retry');
      await takeMany(limiter, k, rule, rule.burst_count, T0);
      const refused = await limiter.take(k, rule, T0);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(Math.ceil(1000 / rule.per_second));
      expect(Number.isInteger(refused.retryAfterMs)).toBe(true);
      // Waiting a little less is not enough (the hint is not wildly pessimistic) ...
      const early = await limiter.take(k, rule, T0 + Math.floor(refused.retryAfterMs * 0.9));
      expect(early.allowed).toBe(false);
      expect(early.retryAfterMs).toBeGreaterThan(0);
      expect(early.retryAfterMs).toBeLessThan(refused.retryAfterMs);
      // ... and waiting exactly as long as told is.
      expect((await limiter.take(k, rule, T0 + refused.retryAfterMs)).allowed).toBe(true);
    });

    it('refills at per_second over injected time, never beyond the burst', async () => {
      const rule = { per_second: 2, burst_count: 5 };
      const k = key('refill');
      expect(count(await takeMany(limiter, k, rule, 5, T0))).toBe(5);
      // One second later: two tokens.
      expect(await takeMany(limiter, k, rule, 3, T0 + 1000)).toEqual([true, true, false]);
      // Half a second later: one more.
      expect(await takeMany(limiter, k, rule, 2, T0 + 1500)).toEqual([true, false]);
      // An hour later the bucket is full again, but holds no more than the burst.
      expect(count(await takeMany(limiter, k, rule, 8, T0 + 3_600_000))).toBe(5);
    });

    it('grants nothing for time that runs backwards (clocks of several processes differ)', async () => {
      const rule = { per_second: 2, burst_count: 2 };
      const k = key('skew');
      expect(count(await takeMany(limiter, k, rule, 2, T0))).toBe(2);
      // A process whose clock is 500 ms behind asks, then one on time asks again:
      // no time has really passed since the bucket was emptied.
      expect((await limiter.take(k, rule, T0 - 500)).allowed).toBe(false);
      expect((await limiter.take(k, rule, T0)).allowed).toBe(false);
      // Real elapsed time still counts from the latest instant seen.
      expect((await limiter.take(k, rule, T0 + 500)).allowed).toBe(true);
    });

    it('keeps keys independent', async () => {
      const rule = { per_second: 0.01, burst_count: 2 };
      const a = key('a');
      const b = key('b');
      expect(count(await takeMany(limiter, a, rule, 3, T0))).toBe(2);
      expect(await takeMany(limiter, b, rule, 3, T0)).toEqual([true, true, false]);
      expect((await limiter.take(a, rule, T0)).allowed).toBe(false);
    });

    it('does not reset a drained key because of traffic on other keys under other rules', async () => {
      // Endpoints share one limiter with different rules (login burst 3, message burst 50, ...).
      const big = { per_second: 0.001, burst_count: 20 };
      const small = { per_second: 1000, burst_count: 1 };
      const k = key('drained');
      expect(count(await takeMany(limiter, k, big, 15, T0))).toBe(15); // 5 left
      for (let i = 0; i < 1200; i++) await limiter.take(key(`other-${i % 7}`), small, T0 + 1 + i);
      expect(count(await takeMany(limiter, k, big, 10, T0 + 1300))).toBe(5);
    });

    it('never allows more than the burst to concurrent takes', async () => {
      const rule = { per_second: 0.001, burst_count: 10 };
      const k = key('concurrent');
      const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => limiter.take(k, rule, T0 + (i % 3))));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
      for (const d of decisions.filter((d) => !d.allowed)) expect(d.retryAfterMs).toBeGreaterThan(0);
    });
  });
}
