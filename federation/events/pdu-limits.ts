/**
 * The spec's limits on an event ("Size limits" in the client-server API, the
 * identifier grammars in the appendices), checked the same way for events we
 * build and events another server sends us: an event over them is one that
 * other servers will refuse, so we must neither create nor accept it.
 */
import { CanonicalJsonError, canonicalJson } from './canonical-json.ts';
import { pduWireJson, type PduDraft } from './event-json.ts';

/** The complete event, in the federation format with its signatures, as canonical JSON. */
export const MAX_PDU_BYTES = 65_536;
/** `type`, `state_key`, and the sizes of user ids (`sender`) and room ids (`room_id`). */
export const MAX_KEY_BYTES = 255;

export type PduLimitProblem =
  /** A key or the whole event is over its limit. */
  | { kind: 'too_large'; field: string; bytes: number; limit: number }
  /** Not representable as canonical JSON: floats, integers past ±(2^53−1), lone surrogates. */
  | { kind: 'not_canonical'; path: string; reason: string };

const LIMITED_KEYS = ['type', 'state_key', 'sender', 'room_id'] as const;

/**
 * The first limit `event` breaks, or undefined when it keeps them all.
 *
 * Pass a draft before hashing it (hashing needs canonical JSON, so a value it cannot
 * encode is better reported here than thrown from there), and the signed event again
 * afterwards: the 64 KiB limit counts the hashes and signatures too.
 */
export function pduLimitProblem(event: PduDraft): PduLimitProblem | undefined {
  for (const field of LIMITED_KEYS) {
    const value: unknown = event[field];
    if (typeof value !== 'string') continue;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_KEY_BYTES) return { kind: 'too_large', field, bytes, limit: MAX_KEY_BYTES };
  }
  let encoded: string;
  try {
    encoded = canonicalJson(pduWireJson(event));
  } catch (e) {
    if (!(e instanceof CanonicalJsonError)) throw e;
    return { kind: 'not_canonical', path: e.path, reason: e.message };
  }
  const bytes = Buffer.byteLength(encoded, 'utf8');
  if (bytes > MAX_PDU_BYTES) return { kind: 'too_large', field: 'event', bytes, limit: MAX_PDU_BYTES };
  return undefined;
}

/** A one-line description of a problem, for an error message or a log. */
export function describePduLimitProblem(p: PduLimitProblem): string {
  if (p.kind === 'not_canonical') return `Event is not valid canonical JSON: ${p.reason}`;
  return p.field === 'event'
    ? `Event is ${p.bytes} bytes, over the limit of ${p.limit}`
    : `Event ${p.field} is ${p.bytes} bytes, over the limit of ${p.limit}`;
}
