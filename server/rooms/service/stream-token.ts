import { MatrixError } from '../../http/matrix-error.ts';
import type { TopoPoint } from '../storage/events.ts';

/**
 * Two kinds of token. `s<pos>` names a point in the global stream, "just after
 * the event at position pos" (sync tokens, which may carry ephemeral counters
 * after an underscore: `s<pos>_<typing>`). `t<depth>_<stream>` names a point in
 * a room's topological order (depth, stream position), the spec's order for
 * /messages and /context: events before it sort lower, events at or after it
 * do not. Backfilled history has negative stream positions, so `t` tokens may
 * carry a minus sign.
 */
export function formatToken(pos: number): string {
  return `s${pos}`;
}

export function formatTopoToken(p: TopoPoint): string {
  return `t${p.depth}_${p.stream}`;
}

export function parseStreamPos(token: string, param = 'from'): number {
  const m = /^s(\d{1,16})(?:_\d{1,16})*$/.exec(token);
  if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid ${param} token`);
  return Number(m[1]);
}

export type PageToken = { kind: 'stream'; pos: number } | { kind: 'topo'; point: TopoPoint };

export function parsePageToken(token: string, param = 'from'): PageToken {
  const t = /^t(\d{1,16})_(-?\d{1,16})$/.exec(token);
  if (t) {
    const point = { depth: Number(t[1]), stream: Number(t[2]) };
    if (!Number.isSafeInteger(point.depth) || !Number.isSafeInteger(point.stream))
      throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid ${param} token`);
    return { kind: 'topo', point };
  }
  return { kind: 'stream', pos: parseStreamPos(token, param) };
}

/**
 * A token as a stream position, for APIs that page in stream order (/relations, threads):
 * a topological token "just before (depth, stream)" is just after stream - 1 there.
 */
export function streamPosOfToken(token: string, param = 'from'): number {
  const t = parsePageToken(token, param);
  return t.kind === 'stream' ? t.pos : Math.max(0, t.point.stream - 1);
}
