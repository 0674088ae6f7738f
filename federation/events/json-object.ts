/**
 * Small helpers for treating untyped JSON-ish objects safely.
 *
 * Objects are rebuilt with `Object.fromEntries` rather than `out[key] = value`
 * because the latter, for a key of "__proto__" taken from remote JSON, would
 * replace the prototype instead of creating a property (and so silently drop
 * the key from hashes and signatures).
 */

/** A non-null, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own-property lookup; yields undefined for non-objects and inherited names like "constructor". */
export function getOwn(container: unknown, key: string): unknown {
  if (!isRecord(container) || !Object.prototype.hasOwnProperty.call(container, key)) return undefined;
  return container[key];
}

/** A shallow copy of `obj` without the given keys. */
export function omitKeys(obj: object, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !keys.includes(k)));
}

/** A shallow copy of `obj` with only the given keys (those it actually has). */
export function pickKeys(obj: object, keys: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keys.has(k)));
}
