/**
 * A token bucket per key: `burst_count` requests at once, refilled at `per_second`.
 * In-process by default; Redis-backed when Redis is configured so several server
 * processes share one budget. Both pass test/contracts/rate-limiter.contract.ts.
 */
export interface RateRule {
  per_second: number;
  burst_count: number;
}

export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until one request would be allowed. */
  retryAfterMs: number;
}

export interface RateLimiter {
  take(key: string, rule: RateRule, now?: number): Promise<RateDecision>;
  close(): Promise<void>;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/** The arithmetic both implementations share. */
export function refill(bucket: Bucket | undefined, rule: RateRule, now: number): Bucket {
  if (!bucket) return { tokens: rule.burst_count, updated: now };
  const elapsed = Math.max(0, now - bucket.updated) / 1000;
  return { tokens: Math.min(rule.burst_count, bucket.tokens + elapsed * rule.per_second), updated: now };
}

export function createMemoryRateLimiter(): RateLimiter {
  const buckets = new Map<string, Bucket>();
  let sweeps = 0;
  return {
    async take(key, rule, now = Date.now()) {
      // Forget full buckets now and then so the map does not grow without bound.
      if (++sweeps % 1000 === 0) {
        for (const [k, b] of buckets) if (refill(b, rule, now).tokens >= rule.burst_count) buckets.delete(k);
      }
      const b = refill(buckets.get(key), rule, now);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        buckets.set(key, b);
        return { allowed: true, retryAfterMs: 0 };
      }
      buckets.set(key, b);
      return { allowed: false, retryAfterMs: Math.ceil(((1 - b.tokens) / rule.per_second) * 1000) };
    },
    async close() {
      buckets.clear();
    },
  };
}
