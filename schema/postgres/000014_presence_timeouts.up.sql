-- Presence that times out by itself (Synapse's rules): online -> unavailable after no
-- activity for a while, -> offline once the user has stopped syncing. Several processes
-- serve /sync, so who is syncing is kept here, not in one process's memory:
--   last_sync_ts   when a /sync of the user (one that affects presence) last started or ended
--   syncing_until  a lease: some process has a /sync of the user in flight and renews
--                  this before it runs out; a process that dies simply stops renewing it
-- Both are written in batches by each process's heartbeat, never once per /sync.
ALTER TABLE presence ADD COLUMN last_sync_ts bigint;
ALTER TABLE presence ADD COLUMN syncing_until bigint;

-- Every process looks for timed-out users every few seconds; only users not yet offline
-- can time out, and they are the few among everyone who ever had a presence.
CREATE INDEX presence_awake ON presence (user_id) WHERE presence <> 'offline';
