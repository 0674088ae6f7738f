import type { Context } from 'hono';
import { clientIp } from './client-ip.ts';
import { limitExceeded } from './matrix-error.ts';
import type { RateLimiter, RateRule } from './rate-limiter.ts';

/** Spend one request of `rule` for the caller's address (and any extra key); 429 when empty. */
export async function enforceRate(limiter: RateLimiter, c: Context, name: string, rule: RateRule, key?: string): Promise<void> {
  const decision = await limiter.take(`${name}:${key ?? clientIp(c) ?? 'unknown'}`, rule);
  if (!decision.allowed) throw limitExceeded(decision.retryAfterMs);
}
