-- The room engine: signed events as DAG nodes, state at every event, and the
-- projections clients read (current state, memberships, relations, receipts).

CREATE TABLE rooms (
  room_id        text PRIMARY KEY,
  room_version   text NOT NULL,
  creator        text NOT NULL,
  is_public      boolean NOT NULL DEFAULT false,     -- listed in the public room directory
  room_type      text,                               -- creation_content.type, e.g. m.space
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- State snapshots as delta chains: a group is its parent's state plus its own
-- entries. Groups never change, so a loaded state map can be cached forever.
CREATE TABLE state_groups (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  room_id     text NOT NULL,
  prev_group  bigint REFERENCES state_groups (id),
  chain_len   integer NOT NULL DEFAULT 0
);

CREATE TABLE state_group_entries (
  group_id   bigint NOT NULL REFERENCES state_groups (id),
  type       text NOT NULL,
  state_key  text NOT NULL,
  event_id   text NOT NULL,
  PRIMARY KEY (group_id, type, state_key)
);

CREATE TABLE events (
  event_id        text PRIMARY KEY,
  room_id         text NOT NULL REFERENCES rooms (room_id),
  stream_pos      bigint NOT NULL UNIQUE,             -- the global order /sync reads
  depth           bigint NOT NULL,
  type            text NOT NULL,
  state_key       text,
  sender          text NOT NULL,
  origin_server_ts bigint NOT NULL,
  json            jsonb NOT NULL,                     -- the PDU (pruned once redacted)
  state_group     bigint NOT NULL REFERENCES state_groups (id),  -- state after this event
  state_group_before bigint REFERENCES state_groups (id),        -- state before it (null: none, the create event)
  redacted_by     text,
  -- relation projection (m.relates_to), for /relations, threads and aggregations
  relates_to      text,
  rel_type        text,
  aggregation_key text,
  thread_id       text,                               -- root of the thread this event is in
  txn_id          text,                               -- the sender's transaction id (echoed to that device only)
  device_id       text
);
CREATE INDEX events_room_stream ON events (room_id, stream_pos);
CREATE INDEX events_relates ON events (relates_to, rel_type) WHERE relates_to IS NOT NULL;
CREATE INDEX events_thread ON events (room_id, thread_id, stream_pos) WHERE thread_id IS NOT NULL;

-- Idempotent sends: one (user, device, txn) is one event, even across restarts.
CREATE TABLE event_txns (
  user_id    text NOT NULL,
  device_id  text NOT NULL,
  txn_id     text NOT NULL,
  event_id   text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, device_id, txn_id)
);

CREATE TABLE forward_extremities (
  room_id   text NOT NULL,
  event_id  text NOT NULL,
  PRIMARY KEY (room_id, event_id)
);

CREATE TABLE current_state (
  room_id    text NOT NULL,
  type       text NOT NULL,
  state_key  text NOT NULL,
  event_id   text NOT NULL,
  membership text,                                   -- for m.room.member rows
  stream_pos bigint NOT NULL,
  PRIMARY KEY (room_id, type, state_key)
);
CREATE INDEX current_state_members ON current_state (state_key, membership) WHERE type = 'm.room.member';

CREATE TABLE room_aliases (
  alias      text PRIMARY KEY,
  room_id    text NOT NULL REFERENCES rooms (room_id),
  creator    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX room_aliases_room ON room_aliases (room_id);

CREATE TABLE receipts (
  room_id      text NOT NULL,
  receipt_type text NOT NULL,                         -- m.read, m.read.private
  user_id      text NOT NULL,
  thread_id    text NOT NULL DEFAULT '',              -- '' = unthreaded
  event_id     text NOT NULL,
  ts           bigint NOT NULL,
  stream_pos   bigint NOT NULL,
  PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
);
CREATE INDEX receipts_stream ON receipts (room_id, stream_pos);

-- Matrix presence plus the seed's fields (community, socket).
CREATE TABLE presence (
  user_id          text PRIMARY KEY,
  presence         text NOT NULL DEFAULT 'offline',
  status_msg       text,
  last_active_ts   bigint,
  currently_active boolean NOT NULL DEFAULT false,
  community_id     bigint,
  last_seen_at     timestamptz,
  socket_id        text,
  stream_pos       bigint NOT NULL
);

-- Per-user push rule changes; the effective ruleset is the spec's defaults merged with these.
CREATE TABLE push_rules (
  user_id    text PRIMARY KEY,
  rules      jsonb NOT NULL,
  stream_pos bigint NOT NULL
);

CREATE TABLE event_reports (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  room_id   text NOT NULL,
  event_id  text,
  user_id   text NOT NULL,
  reason    text,
  score     integer,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE forgotten_rooms (
  user_id text NOT NULL,
  room_id text NOT NULL,
  PRIMARY KEY (user_id, room_id)
);
