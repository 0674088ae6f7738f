-- Auth chains of room events, indexed so that state resolution v2's auth
-- difference and /event_auth are answered by a few indexed queries instead of
-- walking auth_events event by event (rooms with tens of thousands of events).
--
-- Design: a chain cover. Every state event sits at (chain_id, seq) on one
-- chain; an event at seq n always has the event at seq n-1 among its auth
-- events, so the auth chain of (c, n) holds the whole prefix (c, 1..n-1).
-- The set of events an event reaches is then one highest seq per chain.
-- event_auth_chain_reach stores that vector as deltas along each chain: the
-- reach of (c, n) in chain t is the greatest target_seq over rows of chain c
-- with seq <= n. Unlike a pruned link graph this is transitively closed, so a
-- query needs no recursion; unlike an event-by-event closure it grows with the
-- chains an event newly reaches, not with the length of its auth chain.
-- (federation/state-res/chain-cover.ts explains the choice.)
--
-- No foreign keys to `events`: events are indexed by the persister in the same
-- transaction as their insert, and the events table is being reshaped.

-- The auth_events of every indexed event (state or not), as sent.
CREATE TABLE event_auth_edges (
  event_id  text NOT NULL,
  auth_id   text NOT NULL,
  room_id   text NOT NULL,
  PRIMARY KEY (event_id, auth_id)
);
-- Reverse walks (events citing an event), e.g. v2.1's conflicted state subgraph.
CREATE INDEX event_auth_edges_auth ON event_auth_edges (auth_id);

CREATE SEQUENCE event_auth_chain_ids AS bigint START 1;

-- The chain position of every indexed state event. type/state_key are copies
-- used only to keep one (type, state_key)'s successive events on one chain.
CREATE TABLE event_auth_chain_positions (
  event_id   text PRIMARY KEY,
  room_id    text NOT NULL,
  chain_id   bigint NOT NULL,
  seq        integer NOT NULL,
  type       text,
  state_key  text,
  UNIQUE (chain_id, seq)
);

-- Reach deltas: (chain_id, seq) reaches target_chain up to target_seq, and
-- (chain_id, seq - 1) reached less of it. Never a row for its own chain.
CREATE TABLE event_auth_chain_reach (
  chain_id      bigint NOT NULL,
  seq           integer NOT NULL,
  target_chain  bigint NOT NULL,
  target_seq    integer NOT NULL,
  PRIMARY KEY (chain_id, seq, target_chain)
);
