-- Accounts, devices, tokens, account data and filters (the seed's `users` and
-- `refresh_tokens`, plus what a Matrix homeserver needs around them).

-- One global stream order: every change a client can sync (events, account data,
-- receipts, ...) takes a position from it, so a since-token is one number.
CREATE SEQUENCE stream_positions AS bigint START 1;

CREATE TABLE users (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id        text NOT NULL UNIQUE,          -- full Matrix ID, @handle:server
  handle         text NOT NULL UNIQUE,          -- the localpart
  email          text UNIQUE,
  password_hash  text,                          -- null: no password login (e.g. appservice users)
  display_name   text,
  avatar_url     text,
  reputation     integer NOT NULL DEFAULT 0,
  is_admin       boolean NOT NULL DEFAULT false,
  user_type      text,                          -- null for people; 'bot', 'support'
  deactivated    boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
  user_id              text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  device_id            text NOT NULL,
  display_name         text,
  last_seen_ip         text,
  last_seen_user_agent text,
  last_seen_ts         bigint,
  created_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, device_id)
);

-- Tokens are stored as SHA-256 hashes of 32 random bytes: a leaked table does
-- not log anyone in, and lookups by hash need no secret comparison in SQL.
CREATE TABLE refresh_tokens (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     text NOT NULL,
  device_id   text NOT NULL,
  token_hash  bytea NOT NULL UNIQUE,
  expires_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  used_at     timestamptz,                      -- set once rotated; a second use is refused
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);

CREATE TABLE access_tokens (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id           text NOT NULL,
  device_id         text NOT NULL,
  token_hash        bytea NOT NULL UNIQUE,
  refresh_token_id  bigint REFERENCES refresh_tokens (id) ON DELETE CASCADE,
  expires_at        timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);
CREATE INDEX access_tokens_device ON access_tokens (user_id, device_id);

-- Global account data has room_id ''.
CREATE TABLE account_data (
  user_id    text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  room_id    text NOT NULL DEFAULT '',
  type       text NOT NULL,
  content    jsonb NOT NULL,
  stream_pos bigint NOT NULL,
  PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX account_data_stream ON account_data (user_id, stream_pos);

CREATE TABLE user_filters (
  filter_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  filter     jsonb NOT NULL
);
CREATE INDEX user_filters_user ON user_filters (user_id);

-- User-interactive auth sessions survive a restart mid-flow.
CREATE TABLE uia_sessions (
  session_id  text PRIMARY KEY,
  purpose     text NOT NULL,                    -- 'register', 'delete_devices', 'password', 'deactivate', ...
  user_id     text,
  completed   jsonb NOT NULL DEFAULT '[]',
  params      jsonb NOT NULL DEFAULT '{}',      -- what each completed stage remembered
  request     jsonb NOT NULL DEFAULT '{}',      -- method and path the session was started for
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE registration_tokens (
  token         text PRIMARY KEY,
  uses_allowed  integer,
  pending       integer NOT NULL DEFAULT 0,
  completed     integer NOT NULL DEFAULT 0,
  expiry_time   bigint
);
