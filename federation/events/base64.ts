/**
 * Base64 as Matrix uses it (spec appendix "Unpadded Base64"): RFC 4648 without
 * "=" padding when encoding; decoders accept input with or without padding.
 *
 * Node's Buffer decoder silently skips characters outside the alphabet, which
 * would let a malformed signature or hash "decode" to something. We validate
 * the alphabet and length first so bad input fails loudly instead.
 */

export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

const STANDARD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9\-_]*$/;

/** Unpadded standard base64 (alphabet `A-Z a-z 0-9 + /`). */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/** Unpadded URL-safe base64 (`-` and `_` in place of `+` and `/`), as used for event and room ids. */
export function encodeUrlSafeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decode standard base64, padded or unpadded. Throws `Base64Error` on malformed input. */
export function decodeBase64(text: string): Uint8Array {
  return decode(text, STANDARD, 'base64');
}

/** Decode URL-safe base64, padded or unpadded. Throws `Base64Error` on malformed input. */
export function decodeUrlSafeBase64(text: string): Uint8Array {
  return decode(text, URL_SAFE, 'base64url');
}

/**
 * Decode base64 in either alphabet (not both at once), padded or unpadded: for keys
 * published by others who use either, such as identity servers. Throws `Base64Error`.
 */
export function decodeEitherBase64(text: string): Uint8Array {
  return URL_SAFE.test(stripPadding(text)) && /[-_]/.test(text) ? decodeUrlSafeBase64(text) : decodeBase64(text);
}

function decode(text: string, alphabet: RegExp, encoding: 'base64' | 'base64url'): Uint8Array {
  const body = stripPadding(text);
  if (!alphabet.test(body)) throw new Base64Error('invalid base64 character');
  // A single leftover character carries only 6 bits: not a whole byte.
  if (body.length % 4 === 1) throw new Base64Error('invalid base64 length');
  // Non-zero trailing bits are tolerated (as Python's decoder does): the spec's
  // own test-vector seed ("...XA1") has them, so rejecting would break interop.
  return new Uint8Array(Buffer.from(body, encoding));
}

/** Remove correct "=" padding; reject padding that is present but wrong. */
function stripPadding(text: string): string {
  const firstPad = text.indexOf('=');
  if (firstPad === -1) return text;
  const body = text.slice(0, firstPad);
  const pad = text.slice(firstPad);
  const expected = (4 - (body.length % 4)) % 4;
  if (!/^=+$/.test(pad) || pad.length !== expected) throw new Base64Error('invalid base64 padding');
  return body;
}
