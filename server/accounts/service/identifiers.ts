import { MatrixError } from '../../http/matrix-error.ts';

// The localpart grammar of the spec's "historical" relaxed rules is accepted for
// existing users, but new registrations must use the strict one.
const LOCALPART = /^[a-z0-9._=\-/+]+$/;

export function userIdFor(localpart: string, serverName: string): string {
  return `@${localpart}:${serverName}`;
}

/** Checks a requested localpart for registration. */
export function validateNewLocalpart(localpart: string, serverName: string): void {
  if (localpart.length === 0) throw new MatrixError(400, 'M_INVALID_USERNAME', 'User ID cannot be empty');
  if (!LOCALPART.test(localpart)) {
    throw new MatrixError(400, 'M_INVALID_USERNAME', 'User ID can only contain characters a-z, 0-9, or =_-./+');
  }
  // A leading underscore is the conventional namespace of application services.
  if (localpart.startsWith('_')) throw new MatrixError(400, 'M_INVALID_USERNAME', 'User ID may not begin with _');
  if (userIdFor(localpart, serverName).length > 255) throw new MatrixError(400, 'M_INVALID_USERNAME', 'User ID is too long');
}

/**
 * What a client typed as its user: a localpart or a full Matrix ID. Login is
 * case-insensitive, as users type their names in all sorts of ways.
 */
export function localpartFromLogin(user: string, serverName: string): string {
  const u = user.trim();
  if (!u.startsWith('@')) return u.toLowerCase();
  const colon = u.indexOf(':');
  if (colon < 0) throw new MatrixError(400, 'M_INVALID_USERNAME', 'Invalid user ID');
  if (u.slice(colon + 1) !== serverName) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');
  return u.slice(1, colon).toLowerCase();
}

/** Splits a Matrix user ID into localpart and server name, or undefined when it is not one. */
export function parseUserId(userId: string): { localpart: string; server: string } | undefined {
  if (!userId.startsWith('@')) return undefined;
  const colon = userId.indexOf(':');
  if (colon < 2 || colon === userId.length - 1) return undefined;
  return { localpart: userId.slice(1, colon), server: userId.slice(colon + 1) };
}
