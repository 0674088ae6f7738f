import { open } from 'node:fs/promises';

/**
 * Whether a file's first bytes are those of a raster format we decode (JPEG, PNG, GIF,
 * WebP, HEIF/AVIF, TIFF). Checked before sharp sees the file, since even reading the
 * header of an SVG hands the whole document to librsvg: a user's upload labelled
 * image/png must not reach a parser we never meant to expose.
 */
export async function looksLikeRasterImage(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    const { bytesRead } = await file.read(head, 0, 12, 0);
    return isRaster(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

export function isRaster(b: Buffer): boolean {
  const at = (offset: number, ascii: string) =>
    b.length >= offset + ascii.length && b.toString('latin1', offset, offset + ascii.length) === ascii;
  return (
    (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) ||
    at(0, '\x89PNG') ||
    at(0, 'GIF87a') ||
    at(0, 'GIF89a') ||
    (at(0, 'RIFF') && at(8, 'WEBP')) ||
    at(4, 'ftyp') ||
    at(0, 'II*\x00') ||
    at(0, 'MM\x00*')
  );
}
