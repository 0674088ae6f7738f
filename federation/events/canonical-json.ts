/**
 * Canonical JSON, as defined in the Matrix spec appendix ("Signing JSON").
 *
 * Every hash and signature in federation is computed over these bytes, so any
 * divergence from other implementations (key order, escaping, numbers) makes
 * our events unverifiable by them and theirs by us.
 */

/** Thrown when a value cannot be represented in canonical JSON. */
export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
  /** Dotted-ish path to the offending value, e.g. `content.body[2]`; empty for the root. */
  readonly path: string;
  constructor(message: string, path: string) {
    super(path === '' ? message : `${message} (at ${path})`);
    this.path = path;
  }
}

/**
 * Encode `value` as canonical JSON.
 *
 * Accepts `unknown` rather than `JsonValue` because callers routinely pass
 * interface-typed objects (e.g. `Pdu`) that TypeScript will not treat as an
 * index-signature type; everything is validated at runtime instead.
 *
 * - Object keys are sorted by Unicode code point (not UTF-16 code unit, which
 *   is what `Array.prototype.sort` would do).
 * - Numbers must be integers in [-(2^53)+1, 2^53-1]; `-0` is written as `0`
 *   (the spec example maps `-0` to `0`). Floats, NaN and ±Infinity throw.
 * - Object members whose value is `undefined` are omitted, matching how
 *   optional TypeScript fields serialise on the wire. `undefined` anywhere else
 *   (root, array element) throws.
 * - Strings containing lone surrogates throw: they have no UTF-8 encoding, so
 *   no other implementation could produce matching bytes.
 *
 * The result is a JS string; encode it as UTF-8 (e.g. `Buffer.from(s, 'utf8')`)
 * to get the bytes that are hashed or signed.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '', new Set());
}

/** Convenience: the UTF-8 bytes that signatures and hashes are computed over. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(canonicalJson(value), 'utf8'));
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 - 1, exactly the spec's bound.

function encode(value: unknown, path: string, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return encodeNumber(value, path);
    case 'string':
      return encodeString(value, path);
    case 'object':
      return encodeContainer(value, path, ancestors);
    default:
      // undefined, bigint, function, symbol: not JSON values.
      throw new CanonicalJsonError(`${typeof value} is not a JSON value`, path);
  }
}

function encodeNumber(n: number, path: string): string {
  if (!Number.isInteger(n)) {
    throw new CanonicalJsonError(`non-integer number ${String(n)} is not allowed`, path);
  }
  if (n > MAX_SAFE || n < -MAX_SAFE) {
    throw new CanonicalJsonError(`integer ${String(n)} is outside [-(2^53)+1, 2^53-1]`, path);
  }
  // String() never uses exponents for |n| < 2^53 and prints -0 as "0".
  return String(n);
}

function encodeString(s: string, path: string): string {
  if (hasLoneSurrogate(s)) {
    throw new CanonicalJsonError('string contains a lone UTF-16 surrogate', path);
  }
  // JSON.stringify already matches the spec grammar exactly: the short escapes
  // \b \t \n \f \r \" \\, lowercase \u00XX for other control characters, and
  // nothing else escaped (not "/", not U+2028/9, not non-ASCII).
  return JSON.stringify(s);
}

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1); // NaN past the end
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return true;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function encodeContainer(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new CanonicalJsonError('cyclic structure', path);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const parts: string[] = [];
      for (let i = 0; i < value.length; i++) {
        // Index access (not forEach) so sparse-array holes surface as undefined and throw.
        parts.push(encode(value[i], `${path}[${i}]`, ancestors));
      }
      return `[${parts.join(',')}]`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      // Dates, Maps, Buffers... have no single obvious JSON form; refuse rather than guess.
      throw new CanonicalJsonError('only plain objects and arrays can be encoded', path);
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort(compareCodePoints);
    const parts: string[] = [];
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      const memberPath = path === '' ? key : `${path}.${key}`;
      parts.push(`${encodeString(key, memberPath)}:${encode(member, memberPath, ancestors)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Compare two strings by Unicode code point.
 *
 * UTF-16 code-unit order agrees with code-point order except that surrogates
 * (0xD800-0xDFFF, encoding U+10000 and above) sort below 0xE000-0xFFFF. Shifting
 * surrogates up and 0xE000-0xFFFF down at the first differing unit fixes that.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

function fixup(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
