export type ThumbnailMethod = 'crop' | 'scale';

export interface ThumbnailSize {
  width: number;
  height: number;
  method: ThumbnailMethod;
}

/** The sizes the spec says servers SHOULD produce (Synapse's defaults): only these are made and kept. */
export const OFFERED_SIZES: readonly ThumbnailSize[] = [
  { width: 32, height: 32, method: 'crop' },
  { width: 96, height: 96, method: 'crop' },
  { width: 320, height: 240, method: 'scale' },
  { width: 640, height: 480, method: 'scale' },
  { width: 800, height: 600, method: 'scale' },
];

const area = (s: ThumbnailSize): number => s.width * s.height;
const bySize = [...OFFERED_SIZES].sort((a, b) => area(a) - area(b));

/**
 * Which offered size serves a request: the smallest of the same method at least as large
 * as asked (a thumbnail is never smaller than requested when the image allows), so any
 * requested size maps onto five cached files. A crop larger than every offered crop is
 * served from a scaled size, which keeps its detail (the client crops); a request larger
 * than everything gets the largest.
 */
export function chooseSize(width: number, height: number, method: ThumbnailMethod): ThumbnailSize {
  const covers = (s: ThumbnailSize) => s.width >= width && s.height >= height;
  const scaled = bySize.filter((s) => s.method === 'scale');
  const same = bySize.find((s) => s.method === method && covers(s));
  return same ?? scaled.find(covers) ?? scaled.at(-1)!;
}

/**
 * The thumbnail's own dimensions for an image of `source` size, never upscaled: `scale`
 * fits the image inside the box keeping its aspect; `crop` takes the box's aspect, as
 * large as the box or, for a smaller image, as large as the image allows.
 */
export function thumbnailDimensions(source: { width: number; height: number }, size: ThumbnailSize): { width: number; height: number } {
  if (size.method === 'scale') {
    const k = Math.min(1, size.width / source.width, size.height / source.height);
    return { width: Math.max(1, Math.round(source.width * k)), height: Math.max(1, Math.round(source.height * k)) };
  }
  const k = Math.min(1, source.width / size.width, source.height / size.height);
  return { width: Math.max(1, Math.floor(size.width * k)), height: Math.max(1, Math.floor(size.height * k)) };
}
