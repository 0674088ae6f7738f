import type { Tx } from '../../db/database.ts';

/** Which offered size a thumbnail was made for. */
export interface ThumbnailKey {
  serverName: string;
  mediaId: string;
  width: number;
  height: number;
  method: 'crop' | 'scale';
  contentType: string;
}

export async function getThumbnail(tx: Tx, k: ThumbnailKey): Promise<{ sha256: string; size: number } | undefined> {
  const [row] = await tx<{ sha256: string; size: number }[]>`
    select sha256, size from media_thumbnails
    where server_name = ${k.serverName} and media_id = ${k.mediaId} and width = ${k.width} and height = ${k.height}
      and method = ${k.method} and content_type = ${k.contentType}`;
  return row;
}

/** Two requests may make the same thumbnail at once: the bytes are the same, the first row stays. */
export async function insertThumbnail(tx: Tx, k: ThumbnailKey, sha256: string, size: number, now: number): Promise<void> {
  await tx`insert into media_thumbnails (server_name, media_id, width, height, method, content_type, size, sha256, created_ts)
    values (${k.serverName}, ${k.mediaId}, ${k.width}, ${k.height}, ${k.method}, ${k.contentType}, ${size}, ${sha256}, ${now})
    on conflict do nothing`;
}
