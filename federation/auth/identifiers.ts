/**
 * Grammar checks for the identifiers the auth rules inspect (appendices,
 * "Identifier Grammar"). Kept permissive where the spec requires servers to
 * accept historical user IDs over federation.
 */

/**
 * The server name part of a user/room id (everything after the first colon),
 * or undefined if there is none. Localparts cannot contain ':', while server
 * names can (ports, IPv6 literals), hence the first colon.
 */
export function domainOf(id: string): string | undefined {
  const i = id.indexOf(':');
  return i < 0 ? undefined : id.slice(i + 1);
}

const IPV4 = /^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const DNS = /^[0-9A-Za-z.-]{1,255}$/;

/** `server_name = hostname [ ":" port ]` from the appendices. */
export function isValidServerName(name: string): boolean {
  let host = name;
  const port = /:[0-9]{1,5}$/.exec(name);
  if (port) {
    // For IPv6 literals the port can only follow the closing bracket.
    const candidate = name.slice(0, port.index);
    if (!candidate.startsWith('[') || candidate.endsWith(']')) host = candidate;
  }
  if (host.startsWith('[')) return IPV6.test(host);
  if (IPV4.test(host)) {
    return host.split('.').every((octet) => Number(octet) <= 255);
  }
  return DNS.test(host);
}

const UTF8 = new TextEncoder();

/**
 * Whether `id` is a user ID servers must accept in events: `@localpart:server`.
 * Historical localparts (any code points except ':' and NUL, even empty) are
 * accepted because the spec says servers MUST accept them over federation; the
 * whole ID is limited to 255 bytes.
 */
export function isValidUserId(id: string): boolean {
  if (!id.startsWith('@')) return false;
  if (UTF8.encode(id).length > 255) return false;
  const colon = id.indexOf(':');
  if (colon < 0) return false;
  const localpart = id.slice(1, colon);
  if (localpart.includes('\u0000')) return false;
  // Lone surrogates are not valid code points.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(localpart)) return false;
  return isValidServerName(id.slice(colon + 1));
}
