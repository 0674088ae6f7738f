import { MatrixError } from '../../http/matrix-error.ts';
import type { StreamPoint } from '../../notifier/index.ts';

/**
 * `s<pos>_<typing>[_<toDevice>]`: the global stream position and the typing serial; when a
 * response carried only part of the device's waiting to-device messages, the position of the
 * last one it carried (the next sync resumes after it, and acknowledges up to it).
 */
export interface SyncToken extends StreamPoint {
  toDevice?: number;
}

export function formatSyncToken(p: SyncToken): string {
  return `s${p.pos}_${p.typing}${p.toDevice !== undefined ? `_${p.toDevice}` : ''}`;
}

export function parseSyncToken(token: string): SyncToken {
  const m = /^s(\d{1,16})(?:_(\d{1,16}))?(?:_(\d{1,16}))?$/.exec(token);
  if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid since token');
  const point: SyncToken = { pos: Number(m[1]), typing: Number(m[2] ?? 0) };
  if (m[3] !== undefined) {
    const toDevice = Number(m[3]);
    if (toDevice >= point.pos) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid since token');
    point.toDevice = toDevice;
  }
  return point;
}

/** The stream position of a sync token, for APIs that take one (keys/changes). */
export function syncTokenPos(token: string): number {
  return parseSyncToken(token).pos;
}
