import type { Metadata, Sharp, SharpOptions } from 'sharp';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { getThumbnail, insertThumbnail, type ThumbnailKey } from '../storage/thumbnails.ts';
import { baseType } from './disposition.ts';
import type { FileStore } from './file-store.ts';
import { looksLikeRasterImage } from './image-sniff.ts';
import { chooseSize, thumbnailDimensions, type ThumbnailMethod } from './thumbnail-sizes.ts';

/** What to send for a thumbnail request: stored bytes and their type. */
export interface ThumbnailFile {
  sha256: string;
  size: number;
  contentType: string;
}

/** Declared types worth decoding; anything else is refused before the file is opened. */
const THUMBNAILABLE = new Set([
  'image/jpeg',
  'image/png',
  'image/apng',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/heic',
  'image/tiff',
]);
/** What sharp must find the bytes to be (after image-sniff.ts let them through). */
const DECODABLE = new Set(['jpeg', 'png', 'gif', 'webp', 'heif', 'tiff']);
/** An original small enough to be its own thumbnail is sent as it is only in a type clients show inline. */
const SERVABLE_AS_IS = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

const cannotThumbnail = () => new MatrixError(400, 'M_UNKNOWN', 'Cannot generate thumbnails for the requested content');

/**
 * sharp, loaded on the first thumbnail rather than at start: libvips adds ~20 MB to
 * the resident size of a server that may never make one. (The module system keeps it
 * once loaded.)
 */
const loadSharp = async (): Promise<(input: string, options?: SharpOptions) => Sharp> => (await import('sharp')).default;

export function createThumbnailer({ sql, files, maxImagePixels }: { sql: Sql; files: FileStore; maxImagePixels: number }) {
  // One process making one thumbnail once, however many requests ask for it together.
  const making = new Map<string, Promise<ThumbnailFile>>();

  async function make(key: ThumbnailKey, sourcePath: string, dims: { width: number; height: number }): Promise<ThumbnailFile> {
    let bytes: Buffer;
    const sharp = await loadSharp();
    try {
      const image = sharp(sourcePath, { limitInputPixels: maxImagePixels, autoOrient: true, animated: false }).resize(
        dims.width,
        dims.height,
        { fit: key.method === 'crop' ? 'cover' : 'fill', position: 'centre' },
      );
      bytes = await (key.contentType === 'image/jpeg' ? image.jpeg({ quality: 80 }) : image.png()).toBuffer();
    } catch {
      throw cannotThumbnail();
    }
    const stored = await files.put(bytes);
    await insertThumbnail(sql, key, stored.sha256, stored.size, Date.now());
    return { ...stored, contentType: key.contentType };
  }

  return {
    /**
     * A thumbnail of stored media for a requested size: an offered size chosen for it
     * (thumbnail-sizes.ts), made on first request and kept; the original itself when it
     * is no larger than asked (the spec: never upscale, send the original instead).
     */
    async thumbnail(
      media: { serverName: string; mediaId: string; contentType: string; sha256: string; size: number },
      want: { width: number; height: number; method: ThumbnailMethod },
    ): Promise<ThumbnailFile> {
      const type = baseType(media.contentType);
      if (!THUMBNAILABLE.has(type)) throw cannotThumbnail();
      const size = chooseSize(want.width, want.height, want.method);
      // Transparency survives only in PNG; photographs stay JPEG (as Synapse chooses).
      const outType = type === 'image/jpeg' ? 'image/jpeg' : 'image/png';
      const key: ThumbnailKey = { serverName: media.serverName, mediaId: media.mediaId, ...size, contentType: outType };

      // The source's size decides between the original and a thumbnail, so it is read
      // (the header only) before the cache: a cached 800x600 must not answer a request
      // the whole original satisfies.
      const sourcePath = files.path(media.sha256);
      if (!(await looksLikeRasterImage(sourcePath))) throw cannotThumbnail();
      let meta: Metadata;
      const sharp = await loadSharp();
      try {
        // Reads the header only: nothing is decoded yet.
        meta = await sharp(sourcePath, { limitInputPixels: false }).metadata();
      } catch {
        throw cannotThumbnail();
      }
      if (!DECODABLE.has(meta.format)) throw cannotThumbnail();
      const source = meta.autoOrient;
      if (source.width * source.height > maxImagePixels) throw new MatrixError(413, 'M_TOO_LARGE', 'Content is too large to thumbnail');
      // An animated original is not sent as is: without `animated=true` the spec wants a still.
      if (source.width <= want.width && source.height <= want.height && SERVABLE_AS_IS.has(type) && (meta.pages ?? 1) === 1) {
        return { sha256: media.sha256, size: media.size, contentType: type };
      }
      const cached = await getThumbnail(sql, key);
      if (cached) return { ...cached, contentType: outType };

      const id = `${media.serverName}/${media.mediaId}/${size.width}x${size.height}/${size.method}/${outType}`;
      let pending = making.get(id);
      if (!pending) {
        pending = make(key, sourcePath, thumbnailDimensions(source, size)).finally(() => making.delete(id));
        making.set(id, pending);
      }
      return pending;
    },
  };
}

export type Thumbnailer = ReturnType<typeof createThumbnailer>;
