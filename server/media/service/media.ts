import type { Config } from '../../config/load.ts';
import type { Sql } from '../../db/database.ts';
import { transaction } from '../../db/transaction.ts';
import { MatrixError, notFound } from '../../http/matrix-error.ts';
import { countPending, deleteLapsed, fillPending, getMedia, insertPending, insertUploaded, type MediaRow } from '../storage/media.ts';
import { tooLarge, type FileStore } from './file-store.ts';
import { MEDIA_ID, mxcUri, newMediaId } from './media-ids.ts';

export interface MediaServiceDeps {
  sql: Sql;
  config: Config;
  files: FileStore;
}

/** A request body to store, as the routes hand it over. */
export interface IncomingUpload {
  body: ReadableStream<Uint8Array> | null;
  /** The Content-Length header, when the client sent one. */
  declaredLength: number | undefined;
  contentType: string;
  uploadName: string | null;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/** Stored media whose content has arrived. */
export type UploadedMedia = MediaRow & { content_type: string; sha256: string; size: number; uploaded_ts: number };

/** How often a download waiting for an async upload looks again (another process may receive it). */
const PENDING_POLL_MS = 500;

export function createMediaService({ sql, config, files }: MediaServiceDeps) {
  const serverName = config.server_name;
  const limits = config.media;
  // Downloads waiting for an async upload to this process; others' are found by polling.
  const waiting = new Map<string, Set<() => void>>();

  async function store(upload: IncomingUpload) {
    // A declared length over the limit is refused before a byte is read.
    if (upload.declaredLength !== undefined && upload.declaredLength > limits.max_upload_bytes) throw tooLarge(limits.max_upload_bytes);
    const stored = await files.receive(upload.body, { maxBytes: limits.max_upload_bytes, signal: upload.signal });
    return { ...stored, contentType: upload.contentType, uploadName: upload.uploadName };
  }

  function wake(mediaId: string): void {
    for (const resolve of waiting.get(mediaId) ?? []) resolve();
  }

  /** Until the media may have changed: an upload here, the next poll, the deadline, or the client leaving. */
  function changed(mediaId: string, deadline: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = waiting.get(mediaId) ?? new Set();
      waiting.set(mediaId, set);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) waiting.delete(mediaId);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(PENDING_POLL_MS, deadline - Date.now())));
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  const frozen = (row: MediaRow): boolean =>
    limits.legacy_freeze_after_ts !== null && (row.uploaded_ts ?? Date.now()) > limits.legacy_freeze_after_ts;

  return {
    serverName,

    /** POST /upload: stores the body and names it with a new mxc URI. */
    async upload(userId: string, upload: IncomingUpload): Promise<string> {
      const content = await store(upload);
      const mediaId = newMediaId();
      await insertUploaded(sql, serverName, mediaId, userId, content, Date.now());
      return mxcUri(serverName, mediaId);
    },

    /** POST /create: an mxc URI whose content the same user PUTs later. */
    async create(userId: string): Promise<{ content_uri: string; unused_expires_at: number }> {
      const now = Date.now();
      const expires = now + limits.unused_expires_after_ms;
      const mediaId = newMediaId();
      await transaction(sql, async (tx) => {
        // One user's creates in turn, so that two at once cannot both pass the limit.
        await tx`select pg_advisory_xact_lock(hashtext(${`media-create:${userId}`}))`;
        await deleteLapsed(tx, userId, now);
        if ((await countPending(tx, userId, now)) >= limits.max_pending_uploads) {
          throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many pending uploads: upload to the URIs already created first', {
            retry_after_ms: 60_000,
          });
        }
        await insertPending(tx, serverName, mediaId, userId, now, expires);
      });
      return { content_uri: mxcUri(serverName, mediaId), unused_expires_at: expires };
    },

    /** PUT /upload/{serverName}/{mediaId}: the content of a URI from /create, once, by its creator. */
    async uploadTo(userId: string, origin: string, mediaId: string, upload: IncomingUpload): Promise<void> {
      const check = (row: MediaRow | undefined, now: number): void => {
        if (!row) throw notFound('Unknown media ID');
        if (row.user_id !== userId) throw new MatrixError(403, 'M_FORBIDDEN', 'This media ID was created by another user');
        if (row.sha256 !== null) throw new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
        if ((row.unused_expires_ts ?? 0) <= now) throw notFound('This media ID has expired');
      };
      if (origin !== serverName || !MEDIA_ID.test(mediaId)) throw notFound('Unknown media ID');
      // Checked before the body is read, and again (atomically) once it is stored.
      check(await getMedia(sql, serverName, mediaId), Date.now());
      const content = await store(upload);
      const now = Date.now();
      if (!(await fillPending(sql, serverName, mediaId, content, now))) {
        check(await getMedia(sql, serverName, mediaId), now);
        throw new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
      }
      wake(mediaId);
    },

    /**
     * Media to serve. Remote media is not fetched yet (federation comes later): it is
     * not found. A URI whose async upload has not arrived is waited for up to
     * `timeoutMs`, then 504 M_NOT_YET_UPLOADED. `legacy` applies the freeze of the
     * unauthenticated endpoints: media uploaded after it is not found there.
     */
    async find(origin: string, mediaId: string, opts: { timeoutMs: number; signal: AbortSignal; legacy: boolean }): Promise<UploadedMedia> {
      if (origin !== serverName) throw notFound('Remote media is not available on this server');
      if (!MEDIA_ID.test(mediaId)) throw notFound('Media not found');
      const deadline = Date.now() + opts.timeoutMs;
      for (;;) {
        const row = await getMedia(sql, serverName, mediaId);
        if (!row) throw notFound('Media not found');
        if (opts.legacy && frozen(row)) throw notFound('Media not found');
        if (row.sha256 !== null) return row as UploadedMedia;
        if ((row.unused_expires_ts ?? 0) <= Date.now()) throw notFound('Media not found');
        if (Date.now() >= deadline || opts.signal.aborted) {
          throw new MatrixError(504, 'M_NOT_YET_UPLOADED', 'The media has not been uploaded yet');
        }
        await changed(mediaId, deadline, opts.signal);
      }
    },
  };
}

export type MediaService = ReturnType<typeof createMediaService>;
