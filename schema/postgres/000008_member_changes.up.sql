-- /sync's presence asks, on every long-poll wake-up, which users came to share a room with the
-- viewer since their token: the member rows of the viewer's rooms that changed after it. Without
-- this index that is a scan of every member of each room (1,000 rows per waiter in a room of 1,000).
CREATE INDEX current_state_member_changes ON current_state (room_id, stream_pos) WHERE type = 'm.room.member';
