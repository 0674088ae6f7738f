import { canonicalJson } from '../../../federation/events/index.ts';
import { MatrixError } from '../../http/matrix-error.ts';

/** Canonical JSON of a key a client signed; a value canonical JSON cannot carry (a float) is its error. */
export function canonical(value: unknown, field: string): string {
  try {
    return canonicalJson(value);
  } catch {
    throw new MatrixError(400, 'M_BAD_JSON', `${field} is not canonical-JSON encodable`);
  }
}
