/**
 * In-process caches. What one holds must be immutable, or invalidated in every
 * process (through the Redis bus) when it changes: a cache is never the truth.
 */
export { Lru } from './lru.ts';
