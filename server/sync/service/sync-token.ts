import { MatrixError } from '../../http/matrix-error.ts';
import type { StreamPoint } from '../../notifier/index.ts';

/** `s<pos>_<typing>`: the global stream position and the typing serial. */
export function formatSyncToken(p: StreamPoint): string {
  return `s${p.pos}_${p.typing}`;
}

export function parseSyncToken(token: string): StreamPoint {
  const m = /^s(\d{1,16})(?:_(\d{1,16}))?$/.exec(token);
  if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid since token');
  return { pos: Number(m[1]), typing: Number(m[2] ?? 0) };
}
