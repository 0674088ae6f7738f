import { describe, expect, it } from 'vitest';
import { chooseSize, thumbnailDimensions, type ThumbnailMethod } from './thumbnail-sizes.ts';

describe('chooseSize', () => {
  it.each([
    [32, 32, 'crop', '32x32 crop'],
    [20, 10, 'crop', '32x32 crop'],
    [33, 33, 'crop', '96x96 crop'],
    [96, 96, 'crop', '96x96 crop'],
    [97, 50, 'crop', '320x240 scale'],
    [250, 250, 'crop', '640x480 scale'],
    [10, 10, 'scale', '320x240 scale'],
    [320, 240, 'scale', '320x240 scale'],
    [321, 240, 'scale', '640x480 scale'],
    [500, 500, 'scale', '800x600 scale'],
    [2000, 2000, 'scale', '800x600 scale'],
    [2000, 2000, 'crop', '800x600 scale'],
  ] as const)('%ix%i %s -> %s', (w, h, method, expected) => {
    const s = chooseSize(w, h, method as ThumbnailMethod);
    expect(`${s.width}x${s.height} ${s.method}`).toBe(expected);
  });
});

describe('thumbnailDimensions', () => {
  it.each([
    [1000, 800, 320, 240, 'scale', 300, 240],
    [1000, 800, 800, 600, 'scale', 750, 600],
    [200, 100, 320, 240, 'scale', 200, 100],
    [1000, 800, 96, 96, 'crop', 96, 96],
    [1000, 50, 96, 96, 'crop', 50, 50],
    [40, 20, 32, 32, 'crop', 20, 20],
  ] as const)('%ix%i into %ix%i %s -> %ix%i', (sw, sh, w, h, method, ew, eh) => {
    expect(thumbnailDimensions({ width: sw, height: sh }, { width: w, height: h, method })).toEqual({ width: ew, height: eh });
  });
});
