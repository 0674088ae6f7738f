import { createHmac } from 'node:crypto';

export interface TurnConfig {
  uris: string[];
  shared_secret: string | null;
  username: string | null;
  password: string | null;
  user_lifetime_ms: number;
}

export interface TurnCredentials {
  username: string;
  password: string;
  uris: string[];
  ttl: number;
}

/**
 * TURN credentials for a user, or undefined when no TURN server is configured.
 * With a shared secret they follow the TURN REST API convention (coturn's
 * use-auth-secret): username `expiry:userId` with expiry in Unix seconds, and the
 * password base64(HMAC-SHA1(secret, username)). Otherwise static credentials.
 */
export function turnCredentials(turn: TurnConfig, userId: string, nowMs: number): TurnCredentials | undefined {
  if (turn.uris.length === 0) return undefined;
  const ttl = Math.floor(turn.user_lifetime_ms / 1000);
  if (turn.shared_secret) {
    const username = `${Math.floor((nowMs + turn.user_lifetime_ms) / 1000)}:${userId}`;
    const password = createHmac('sha1', turn.shared_secret).update(username).digest('base64');
    return { username, password, uris: turn.uris, ttl };
  }
  if (turn.username !== null && turn.password !== null) return { username: turn.username, password: turn.password, uris: turn.uris, ttl };
  return undefined;
}
