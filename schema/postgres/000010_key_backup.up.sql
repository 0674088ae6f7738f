-- Server-side key backup (room_keys): encrypted megolm session keys a user's
-- devices upload so that a new device can read old messages.

-- A user's backups. Versions count up per user and are never reused: a deleted
-- version keeps its row (marked deleted) so that a later backup cannot take its
-- number, and a client still holding the old one is told it is gone rather than
-- writing its keys into a newer backup. Writes to a version's keys lock its row,
-- which keeps etag and key_count in step with the keys under concurrent uploads.
CREATE TABLE key_backup_versions (
  user_id    text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  version    bigint NOT NULL,
  algorithm  text NOT NULL,
  auth_data  jsonb NOT NULL,
  etag       bigint NOT NULL DEFAULT 0,       -- bumped whenever the version's keys change
  key_count  bigint NOT NULL DEFAULT 0,       -- rows in key_backup_sessions for this version
  deleted    boolean NOT NULL DEFAULT false,
  PRIMARY KEY (user_id, version)
);

-- One backed-up session key per (room, session) in a version; session_data is
-- opaque to the server (encrypted to the backup's public key).
CREATE TABLE key_backup_sessions (
  user_id              text NOT NULL,
  version              bigint NOT NULL,
  room_id              text NOT NULL,
  session_id           text NOT NULL,
  first_message_index  bigint NOT NULL,
  forwarded_count      bigint NOT NULL,
  is_verified          boolean NOT NULL,
  session_data         jsonb NOT NULL,
  PRIMARY KEY (user_id, version, room_id, session_id),
  FOREIGN KEY (user_id, version) REFERENCES key_backup_versions (user_id, version) ON DELETE CASCADE
);
