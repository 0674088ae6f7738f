import type { Tx } from '../../db/database.ts';

/** An mxc URI's row; the content fields are null while an async upload is pending. */
export interface MediaRow {
  server_name: string;
  media_id: string;
  user_id: string;
  content_type: string | null;
  upload_name: string | null;
  size: number | null;
  sha256: string | null;
  created_ts: number;
  uploaded_ts: number | null;
  unused_expires_ts: number | null;
}

/** What an upload stored: the bytes' name on disk and what the client said they are. */
export interface StoredContent {
  contentType: string;
  uploadName: string | null;
  size: number;
  sha256: string;
}

export async function getMedia(tx: Tx, serverName: string, mediaId: string): Promise<MediaRow | undefined> {
  const [row] = await tx<MediaRow[]>`
    select server_name, media_id, user_id, content_type, upload_name, size, sha256, created_ts, uploaded_ts, unused_expires_ts
    from media where server_name = ${serverName} and media_id = ${mediaId}`;
  return row;
}

/** A direct upload: the URI and its content in one row. */
export async function insertUploaded(
  tx: Tx,
  serverName: string,
  mediaId: string,
  userId: string,
  content: StoredContent,
  now: number,
): Promise<void> {
  await tx`insert into media (server_name, media_id, user_id, content_type, upload_name, size, sha256, created_ts, uploaded_ts)
    values (${serverName}, ${mediaId}, ${userId}, ${content.contentType}, ${content.uploadName}, ${content.size}, ${content.sha256}, ${now}, ${now})`;
}

/** POST /create: a URI with no content yet. */
export async function insertPending(
  tx: Tx,
  serverName: string,
  mediaId: string,
  userId: string,
  now: number,
  expiresTs: number,
): Promise<void> {
  await tx`insert into media (server_name, media_id, user_id, created_ts, unused_expires_ts)
    values (${serverName}, ${mediaId}, ${userId}, ${now}, ${expiresTs})`;
}

/**
 * Fills a pending URI with its content, if it is still pending and unexpired; false
 * when another PUT got there first or it lapsed (the caller says which).
 */
export async function fillPending(tx: Tx, serverName: string, mediaId: string, content: StoredContent, now: number): Promise<boolean> {
  const rows = await tx`update media set content_type = ${content.contentType}, upload_name = ${content.uploadName},
      size = ${content.size}, sha256 = ${content.sha256}, uploaded_ts = ${now}, unused_expires_ts = null
    where server_name = ${serverName} and media_id = ${mediaId} and sha256 is null and unused_expires_ts > ${now}`;
  return rows.count === 1;
}

/** A user's created-but-not-uploaded URIs that have not lapsed. */
export async function countPending(tx: Tx, userId: string, now: number): Promise<number> {
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n from media where user_id = ${userId} and sha256 is null and unused_expires_ts > ${now}`;
  return row?.n ?? 0;
}

/** Lapsed pending URIs are dropped when the same user creates new ones (they hold no file). */
export async function deleteLapsed(tx: Tx, userId: string, now: number): Promise<void> {
  await tx`delete from media where user_id = ${userId} and sha256 is null and unused_expires_ts <= ${now}`;
}
