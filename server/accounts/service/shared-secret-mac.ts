import { createHmac } from 'node:crypto';

/**
 * Synapse's shared-secret registration MAC: HMAC-SHA1, hex, over
 * nonce \0 username \0 password \0 "admin"|"notadmin" [\0 user_type].
 * The server checks it and `commcomms register-user` makes it.
 */
export function sharedSecretMac(
  secret: string,
  r: { nonce: string; username: string; password: string; admin: boolean; user_type?: string | null | undefined },
): string {
  const hmac = createHmac('sha1', secret);
  hmac.update(`${r.nonce}\x00${r.username}\x00${r.password}\x00${r.admin ? 'admin' : 'notadmin'}`);
  if (r.user_type) hmac.update(`\x00${r.user_type}`);
  return hmac.digest('hex');
}
