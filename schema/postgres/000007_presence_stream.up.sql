-- /sync asks for the presence changed in a window of stream positions: without an
-- index that is a scan of every user's row on each long-poll wake-up.
CREATE INDEX presence_stream ON presence (stream_pos);
