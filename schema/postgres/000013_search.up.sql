-- Full-text search over rooms (POST /search): one row per searchable event, the seed's
-- content_tsv with a GIN index. Written by the search component's consumer of
-- room.event_persisted, after the event commits; a redaction deletes the row.
-- Only the keys the spec searches are indexed: content.body of m.room.message,
-- content.name of m.room.name, content.topic of m.room.topic. Encrypted events
-- (m.room.encrypted) have none, so they are never searchable.
CREATE TABLE event_search (
  event_id         text PRIMARY KEY,
  room_id          text NOT NULL,
  sender           text NOT NULL,
  key              text NOT NULL,              -- content.body | content.name | content.topic
  stream_pos       bigint NOT NULL,
  origin_server_ts bigint NOT NULL,
  contains_url     boolean NOT NULL,
  content_tsv      tsvector NOT NULL
);
CREATE INDEX event_search_tsv ON event_search USING GIN (content_tsv);
-- Recent-first pages of a common word walk this backwards (see storage/event-search.ts).
CREATE INDEX event_search_stream ON event_search (stream_pos);

-- What was sent before this version: indexed here. The indexer, a new consumer, starts at the
-- outbox's end when the server starts, right after migrating, so nothing is missed on one node
-- (several processes upgraded one by one could leave out what older ones persist meanwhile).
-- A PDU holding "\u0000" cannot be cast to jsonb; such events stay unindexed.
INSERT INTO event_search (event_id, room_id, sender, key, stream_pos, origin_server_ts, contains_url, content_tsv)
SELECT event_id, room_id, sender, key, stream_pos, origin_server_ts, contains_url, to_tsvector('english', value #>> '{}')
FROM (
  SELECT e.event_id, e.room_id, e.sender, e.stream_pos, e.origin_server_ts,
    CASE e.type WHEN 'm.room.message' THEN 'content.body' WHEN 'm.room.name' THEN 'content.name' ELSE 'content.topic' END AS key,
    p.pdu -> 'content' -> CASE e.type WHEN 'm.room.message' THEN 'body' WHEN 'm.room.name' THEN 'name' ELSE 'topic' END AS value,
    e.type = 'm.room.message' AND coalesce(jsonb_typeof(p.pdu -> 'content' -> 'url') = 'string', false) AS contains_url
  FROM events e
  CROSS JOIN LATERAL (SELECT CASE WHEN strpos(e.pdu, '\u0000') = 0 THEN e.pdu::jsonb END AS pdu) p
  WHERE e.in_timeline AND e.redacted_by IS NULL
    AND e.type IN ('m.room.message', 'm.room.name', 'm.room.topic')
    AND CASE WHEN e.type = 'm.room.message' THEN e.state_key IS NULL ELSE e.state_key = '' END
) indexed
WHERE jsonb_typeof(value) = 'string';
