DROP INDEX presence_awake;
ALTER TABLE presence DROP COLUMN syncing_until;
ALTER TABLE presence DROP COLUMN last_sync_ts;
