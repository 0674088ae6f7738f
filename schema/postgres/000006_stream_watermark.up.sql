-- Stream positions without a lock held to commit.
--
-- A writer takes its position from the shared sequence and, in the same step, a
-- transaction-scoped advisory lock keyed by that position: PostgreSQL releases it
-- at commit, at rollback and when the backend dies, so the set of positions still
-- in flight is always exactly the set of those locks in pg_locks. The watermark W
-- (every position <= W has committed or been abandoned) is then the smallest
-- position still locked minus one, or the sequence's last value when none is.
--
-- The two steps (nextval, then lock) are made atomic with respect to readers by a
-- short allocation lock: writers hold it exclusively for those two steps only,
-- readers share it while they read last_value and pg_locks. It is a session lock
-- released before the function returns (and on error), never held to commit.
--
-- Keys use the two-int4 advisory form (objsubid = 2 in pg_locks), in namespaces
-- no other lock of CommComms uses: 0x73747261 ('stra', allocation) and
-- 0x73747270 ('strp', positions; the key is the position's low 32 bits, and the
-- reader rebuilds the full position from the sequence's last value, since every
-- position in flight lies within 2^32 of it).

CREATE FUNCTION take_stream_position() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  pos bigint;
BEGIN
  PERFORM pg_advisory_lock(1937011297, 0);
  BEGIN
    pos := nextval('stream_positions');
    PERFORM pg_advisory_xact_lock(1937011312, (pos & 4294967295)::bit(32)::int4);
  EXCEPTION WHEN OTHERS OR QUERY_CANCELED THEN
    PERFORM pg_advisory_unlock(1937011297, 0);
    RAISE;
  END;
  PERFORM pg_advisory_unlock(1937011297, 0);
  RETURN pos;
END
$$;

CREATE FUNCTION stream_watermark() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  newest bigint;
  oldest_in_flight bigint;
BEGIN
  PERFORM pg_advisory_lock_shared(1937011297, 0);
  BEGIN
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO newest FROM stream_positions;
    SELECT min(newest - ((newest - objid::bigint) & 4294967295)) INTO oldest_in_flight
      FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = 1937011312
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database());
  EXCEPTION WHEN OTHERS OR QUERY_CANCELED THEN
    PERFORM pg_advisory_unlock_shared(1937011297, 0);
    RAISE;
  END;
  PERFORM pg_advisory_unlock_shared(1937011297, 0);
  RETURN coalesce(oldest_in_flight - 1, newest);
END
$$;

-- Which deployment this database is: the processes sharing it talk over Redis in a
-- namespace of their own, so deployments sharing one Redis never hear each other
-- (pub/sub ignores Redis database numbers).
CREATE TABLE deployment (id text NOT NULL);
INSERT INTO deployment (id) SELECT md5(random()::text || clock_timestamp()::text);
