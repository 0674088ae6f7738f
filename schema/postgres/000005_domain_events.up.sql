-- Domain events: what one component tells others happened, written in the same
-- transaction as the change (a transactional outbox) and delivered after commit to
-- named consumers, each with its own position.

-- Ids are stream positions (server/db/stream.ts) and consumers read only up to the
-- stream watermark, so a consumer that has read id N never later sees a new id below
-- N. Rows every consumer is past are pruned.
CREATE TABLE domain_event_outbox (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type        text NOT NULL,
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per consumer: where it is, who runs it, and how it is failing if it is.
CREATE TABLE domain_event_consumers (
  name              text PRIMARY KEY,
  position          bigint NOT NULL,          -- every outbox id <= position is handled or parked
  owner             text,                     -- the dispatcher holding the lease, if any
  lease_until       timestamptz,              -- another process may take over after this
  attempts          integer NOT NULL DEFAULT 0,  -- failed tries at failing_event_id
  failing_event_id  bigint,
  last_error        text,
  last_error_at     timestamptz,
  retry_at          timestamptz,              -- no new try before this (backoff)
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- Events a consumer gave up on after its attempts ran out; kept whole (the outbox
-- row may be pruned) so an operator can read the error and replay the payload.
CREATE TABLE domain_event_dead_letters (
  consumer    text NOT NULL,
  event_id    bigint NOT NULL,
  type        text NOT NULL,
  payload     jsonb NOT NULL,
  attempts    integer NOT NULL,
  error       text NOT NULL,
  parked_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
