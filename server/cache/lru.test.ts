import { describe, expect, it } from 'vitest';
import { Lru } from './lru.ts';

describe('Lru', () => {
  it('forgets the least recently used entry, where a read counts as a use', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1);
    lru.set('d', 4);
    expect(lru.get('b')).toBeUndefined();
    expect([lru.get('a'), lru.get('c'), lru.get('d')]).toEqual([1, 3, 4]);
    expect(lru.size).toBe(3);
  });

  it('replaces a value in place, deletes, and clears', () => {
    const lru = new Lru<number, string>(2);
    lru.set(1, 'x');
    lru.set(1, 'y');
    expect(lru.size).toBe(1);
    expect(lru.get(1)).toBe('y');
    lru.set(2, 'z');
    lru.delete(1);
    expect(lru.get(1)).toBeUndefined();
    lru.clear();
    expect(lru.size).toBe(0);
    expect(lru.get(2)).toBeUndefined();
  });
});
