import { describe, expect, it } from 'vitest';
import { MinHeap } from './heap.ts';

describe('MinHeap', () => {
  it.each([[[]], [[1]], [[3, 1, 2]], [[5, 5, 1, 9, 0, -3, 5, 2, 8, 7, 6, 4]]])('pops %j in ascending order', (input) => {
    const heap = new MinHeap<number>((a, b) => a - b);
    input.forEach((n) => heap.push(n));
    expect(heap.size).toBe(input.length);
    const out: number[] = [];
    for (let n = heap.pop(); n !== undefined; n = heap.pop()) out.push(n);
    expect(out).toEqual([...input].sort((a, b) => a - b));
    expect(heap.pop()).toBeUndefined();
  });

  it('agrees with a sort on interleaved pushes and pops', () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    const mirror: number[] = [];
    let seed = 7;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      if (seed % 3 === 0 && mirror.length > 0) {
        mirror.sort((a, b) => a - b);
        expect(heap.pop()).toBe(mirror.shift());
      } else {
        heap.push(seed % 100);
        mirror.push(seed % 100);
      }
    }
  });
});
