-- End-to-end encryption: the keys devices publish, the messages they send each other,
-- and the stream of device-list changes /sync tells clients about. Keys are stored as
-- the canonical JSON the client signed (text: jsonb would reorder nothing but could not
-- hold every string a signed object may carry), and go with their device.

CREATE TABLE e2e_device_keys (
  user_id    text NOT NULL,
  device_id  text NOT NULL,
  key_json   text NOT NULL,
  PRIMARY KEY (user_id, device_id),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);

-- Each row is claimed (deleted) exactly once.
CREATE TABLE e2e_one_time_keys (
  user_id    text NOT NULL,
  device_id  text NOT NULL,
  algorithm  text NOT NULL,
  key_id     text NOT NULL,
  key_json   text NOT NULL,
  PRIMARY KEY (user_id, device_id, algorithm, key_id),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);

-- One fallback key per algorithm, handed out when the one-time keys run out, until replaced.
CREATE TABLE e2e_fallback_keys (
  user_id    text NOT NULL,
  device_id  text NOT NULL,
  algorithm  text NOT NULL,
  key_id     text NOT NULL,
  key_json   text NOT NULL,
  used       boolean NOT NULL DEFAULT false,
  PRIMARY KEY (user_id, device_id, algorithm),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);

-- master, self_signing, user_signing.
CREATE TABLE e2e_cross_signing_keys (
  user_id    text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  key_type   text NOT NULL,
  public_key text NOT NULL,                 -- unpadded base64 ed25519, the id after "ed25519:"
  key_json   text NOT NULL,
  PRIMARY KEY (user_id, key_type)
);

-- Signatures uploaded apart from the keys they sign (keys/signatures/upload): a device
-- signed by its owner's self-signing key, a master key by a device or by another user's
-- user-signing key. target_key_id is a device id or a cross-signing public key.
CREATE TABLE e2e_signatures (
  target_user_id text NOT NULL,
  target_key_id  text NOT NULL,
  signer_user_id text NOT NULL,
  signer_key_id  text NOT NULL,              -- "ed25519:<id>"
  signature      text NOT NULL,
  PRIMARY KEY (target_user_id, target_key_id, signer_user_id, signer_key_id)
);

-- A user's devices or keys changed at this stream position: the users sharing a room with
-- them (and they) see it in /sync device_lists.changed.
CREATE TABLE device_list_changes (
  user_id    text NOT NULL,
  stream_pos bigint NOT NULL,
  PRIMARY KEY (stream_pos, user_id)
);
CREATE INDEX device_list_changes_user ON device_list_changes (user_id, stream_pos);

-- To-device messages wait here until the recipient device's next /sync acknowledges them.
CREATE TABLE to_device_messages (
  user_id    text NOT NULL,
  device_id  text NOT NULL,
  stream_pos bigint NOT NULL,
  sender     text NOT NULL,
  type       text NOT NULL,
  content    text NOT NULL,
  PRIMARY KEY (user_id, device_id, stream_pos),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);

-- sendToDevice is idempotent per sending device and transaction id.
CREATE TABLE to_device_txns (
  user_id    text NOT NULL,
  device_id  text NOT NULL,
  txn_id     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, device_id, txn_id),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);
