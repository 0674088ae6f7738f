-- A user's signature on another user's key (made with their user-signing key: a verification)
-- is shown to the signer alone (the spec's "Key and signature security"), so only the signer's
-- devices are told of it, through device_lists.changed, whether or not the two share a room.
-- device_list_changes would tell everyone who shares a room with the signed user.
CREATE TABLE signature_changes (
  signer_user_id text NOT NULL,
  target_user_id text NOT NULL,
  stream_pos     bigint NOT NULL,
  PRIMARY KEY (signer_user_id, stream_pos, target_user_id)
);
