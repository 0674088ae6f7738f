import { MatrixError } from '../../http/matrix-error.ts';

/**
 * Pagination and sync tokens name a point in the global stream: `s<pos>` is
 * "just after the event at position pos". Sync tokens may carry ephemeral
 * counters after an underscore (`s<pos>_<typing>`); pagination reads the position.
 */
export function formatToken(pos: number): string {
  return `s${pos}`;
}

export function parseStreamPos(token: string, param = 'from'): number {
  const m = /^s(\d{1,16})(?:_\d{1,16})*$/.exec(token);
  if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid ${param} token`);
  return Number(m[1]);
}
