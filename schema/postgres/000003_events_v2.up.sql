-- Room engine v2: events as federation brings them. A remote PDU may be an
-- outlier (no state known at it), rejected, or soft-failed; it may carry
-- "\u0000", which jsonb cannot hold, so the PDU is kept as JSON text and the
-- columns queries need sit beside it.

ALTER TABLE events ADD COLUMN pdu text;
UPDATE events SET pdu = json::text;
ALTER TABLE events ALTER COLUMN pdu SET NOT NULL;
ALTER TABLE events DROP COLUMN json;

-- Outliers have no state; rejected events keep the state before them.
ALTER TABLE events ALTER COLUMN state_group DROP NOT NULL;
ALTER TABLE events ADD COLUMN outlier boolean NOT NULL DEFAULT false;
ALTER TABLE events ADD COLUMN rejected_reason text;
ALTER TABLE events ADD COLUMN soft_failed boolean NOT NULL DEFAULT false;
-- A redaction is shown to clients only once it applies (its target is here and
-- its sender may redact it); until then it is held back.
ALTER TABLE events ADD COLUMN redaction_held boolean NOT NULL DEFAULT false;
-- What clients see in timelines: accepted, non-outlier events.
ALTER TABLE events ADD COLUMN in_timeline boolean
  GENERATED ALWAYS AS (NOT outlier AND rejected_reason IS NULL AND NOT soft_failed AND NOT redaction_held) STORED;

-- Stream order for /sync (positive positions) and topological order for
-- /messages and /context: (depth, stream_pos). Backfilled events and outliers
-- take negative positions from a second stream, so they never look new.
CREATE SEQUENCE backfill_positions AS bigint INCREMENT BY -1 START WITH -1 MAXVALUE -1;
DROP INDEX events_room_stream;
CREATE INDEX events_room_stream ON events (room_id, stream_pos) WHERE in_timeline;
CREATE INDEX events_room_topo ON events (room_id, depth, stream_pos) WHERE in_timeline;

-- The DAG: each event's prev_events. Edges to events we do not have are the
-- room's backward extremities (where backfill starts).
CREATE TABLE event_edges (
  event_id      text NOT NULL,
  prev_event_id text NOT NULL,
  room_id       text NOT NULL,
  PRIMARY KEY (event_id, prev_event_id)
);
CREATE INDEX event_edges_prev ON event_edges (prev_event_id);
INSERT INTO event_edges (event_id, prev_event_id, room_id)
  SELECT e.event_id, p.prev, e.room_id
  FROM events e, jsonb_array_elements_text((e.pdu::jsonb) -> 'prev_events') AS p(prev)
  ON CONFLICT DO NOTHING;

CREATE TABLE backward_extremities (
  room_id  text NOT NULL,
  event_id text NOT NULL,
  PRIMARY KEY (room_id, event_id)
);

-- Redactions by target, so one that arrives before its target is applied when
-- the target does.
CREATE TABLE event_redactions (
  redaction_id text PRIMARY KEY,
  target_id    text NOT NULL,
  room_id      text NOT NULL
);
CREATE INDEX event_redactions_target ON event_redactions (target_id);
INSERT INTO event_redactions (redaction_id, target_id, room_id)
  SELECT event_id, coalesce((pdu::jsonb) ->> 'redacts', (pdu::jsonb) -> 'content' ->> 'redacts'), room_id
  FROM events
  WHERE type = 'm.room.redaction'
    AND coalesce((pdu::jsonb) ->> 'redacts', (pdu::jsonb) -> 'content' ->> 'redacts') IS NOT NULL;

-- The room's current state as one state group (the resolution of every
-- forward extremity's state), so readers need not resolve it again.
ALTER TABLE rooms ADD COLUMN current_state_group bigint REFERENCES state_groups (id);
UPDATE rooms r SET current_state_group = (
  SELECT e.state_group FROM forward_extremities f JOIN events e ON e.event_id = f.event_id
  WHERE f.room_id = r.room_id ORDER BY e.stream_pos DESC LIMIT 1);
