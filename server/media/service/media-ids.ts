import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 24 characters of [A-Za-z0-9]: about 143 bits, unguessable, and safe in a path. */
export function newMediaId(): string {
  let id = '';
  for (let i = 0; i < 24; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/**
 * The spec's allowed media-id characters. Anything else (`..`, `/`, percent-encoded
 * tricks) names no media: checked before the id reaches the database or a path.
 */
export const MEDIA_ID = /^[A-Za-z0-9_-]{1,255}$/;

export const mxcUri = (serverName: string, mediaId: string): string => `mxc://${serverName}/${mediaId}`;
