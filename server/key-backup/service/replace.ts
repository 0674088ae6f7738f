import type { SessionMeta } from '../storage/sessions.ts';

/**
 * Whether an uploaded key replaces the one stored for its session (the spec's
 * "Server-side key backups"): a verified key beats an unverified one; between
 * keys alike in that, the one that decrypts from an earlier message wins; and
 * then the one forwarded fewer times. A tie keeps the stored key, so uploading
 * the same key again changes nothing (and leaves the etag alone).
 *
 * Synapse checks first_message_index even when only the stored key is verified,
 * letting an unverified key with a lower index replace a verified one; the spec
 * keeps the verified key, and so does this.
 */
export function replacesStored(stored: SessionMeta, uploaded: SessionMeta): boolean {
  if (uploaded.is_verified !== stored.is_verified) return uploaded.is_verified;
  if (uploaded.first_message_index !== stored.first_message_index) return uploaded.first_message_index < stored.first_message_index;
  return uploaded.forwarded_count < stored.forwarded_count;
}
