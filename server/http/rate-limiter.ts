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

/**
 * Refill arithmetic done in floating point can land a hair under a whole token
 * (0.9 + 0.1 = 0.9999999999999999); a token this close to whole counts as whole,
 * so waiting exactly retryAfterMs is always enough. The Redis script uses the same.
 */
export const TOKEN_EPSILON = 1e-9;

/** The arithmetic both implementations share. */
export function refill(bucket: Bucket | undefined, rule: RateRule, now: number): Bucket {
  if (!bucket) return { tokens: rule.burst_count, updated: now };
  const elapsed = Math.max(0, now - bucket.updated) / 1000;
  // `updated` never moves back: a caller whose clock runs behind must not make the
  // next caller's elapsed time count twice.
  return { tokens: Math.min(rule.burst_count, bucket.tokens + elapsed * rule.per_second), updated: Math.max(bucket.updated, now) };
}

export function createMemoryRateLimiter(): RateLimiter {
  // Each bucket keeps the rule it was spent under: one limiter serves every endpoint.
  const buckets = new Map<string, Bucket & { rule: RateRule }>();
  let sweeps = 0;
  return {
    async take(key, rule, now = Date.now()) {
      // Forget full buckets now and then so the map does not grow without bound.
      if (++sweeps % 1000 === 0) {
        for (const [k, b] of buckets) if (refill(b, b.rule, now).tokens >= b.rule.burst_count) buckets.delete(k);
      }
      const b = { ...refill(buckets.get(key), rule, now), rule };
      buckets.set(key, b);
      if (b.tokens + TOKEN_EPSILON >= 1) {
        b.tokens = Math.max(0, b.tokens - 1);
        return { allowed: true, retryAfterMs: 0 };
      }
      return { allowed: false, retryAfterMs: Math.ceil(((1 - b.tokens) / rule.per_second) * 1000) };
    },
    async close() {
      buckets.clear();
    },
  };
}
