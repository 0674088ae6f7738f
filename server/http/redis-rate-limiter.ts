import type { RedisClientType } from 'redis';
import type { RateLimiter } from './rate-limiter.ts';

// The same token bucket as the in-process one, run atomically inside Redis so
// concurrent processes cannot both spend the last token.
const TAKE = `
local tokens = tonumber(redis.call('HGET', KEYS[1], 't'))
local updated = tonumber(redis.call('HGET', KEYS[1], 'u'))
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if tokens == nil then tokens = burst; updated = now end
local elapsed = math.max(0, now - updated) / 1000
tokens = math.min(burst, tokens + elapsed * rate)
-- never move back in time: another process's clock may run behind this one's
if now > updated then updated = now end
local allowed = 0
local retry = 0
if tokens + 1e-9 >= 1 then
  tokens = math.max(0, tokens - 1)
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(updated))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, retry}
`;

export function createRedisRateLimiter(client: RedisClientType, prefix = 'cc:rl:'): RateLimiter {
  return {
    async take(key, rule, now = Date.now()) {
      const [allowed, retry] = (await client.eval(TAKE, {
        keys: [prefix + key],
        arguments: [String(rule.per_second), String(rule.burst_count), String(now)],
      })) as [number, number];
      return { allowed: allowed === 1, retryAfterMs: retry };
    },
    async close() {},
  };
}
