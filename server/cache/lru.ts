import { LRUCache } from 'lru-cache';

/**
 * A bounded map that forgets the least recently used entry. lru-cache keeps recency in typed
 * arrays, so a hit costs no Map re-insertion: the event cache answers thousands of hits per /sync.
 */
export class Lru<K extends NonNullable<unknown>, V extends NonNullable<unknown>> {
  private readonly cache: LRUCache<K, V>;
  constructor(max: number) {
    this.cache = new LRUCache<K, V>({ max });
  }
  get(k: K): V | undefined {
    return this.cache.get(k);
  }
  set(k: K, v: V): void {
    this.cache.set(k, v);
  }
  delete(k: K): void {
    this.cache.delete(k);
  }
  clear(): void {
    this.cache.clear();
  }
  get size(): number {
    return this.cache.size;
  }
}
