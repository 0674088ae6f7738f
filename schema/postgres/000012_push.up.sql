-- Push: what each user's rules said of each event (the unread and highlight counts of /sync,
-- /notifications), their pushers, and the notifications waiting for a push gateway.

-- Written by the push consumer after an event commits, for each local member whose rules
-- notify or highlight. event_pos places the event against the user's read receipt;
-- stream_pos is when the counts changed, so /sync shows the room's new counts.
CREATE TABLE event_push_actions (
  user_id    text NOT NULL,
  room_id    text NOT NULL,
  event_id   text NOT NULL,
  event_pos  bigint NOT NULL,
  stream_pos bigint NOT NULL,
  thread_id  text NOT NULL,                  -- 'main', or the thread root's event id
  actions    text NOT NULL,                  -- the rule's actions, JSON
  notify     boolean NOT NULL,
  highlight  boolean NOT NULL,
  ts         bigint NOT NULL,                -- the event's origin_server_ts
  PRIMARY KEY (user_id, event_id)
);
CREATE INDEX event_push_actions_room ON event_push_actions (user_id, room_id, event_pos);
CREATE INDEX event_push_actions_user_pos ON event_push_actions (user_id, event_pos);
CREATE INDEX event_push_actions_stream ON event_push_actions (stream_pos);

-- HTTP pushers (push-gateway-api.md); a pusher goes with the device that set it.
CREATE TABLE pushers (
  user_id             text NOT NULL,
  device_id           text NOT NULL,
  app_id              text NOT NULL,
  pushkey             text NOT NULL,
  kind                text NOT NULL,
  app_display_name    text NOT NULL,
  device_display_name text NOT NULL,
  profile_tag         text,
  lang                text NOT NULL,
  data                jsonb NOT NULL,
  created_ts          bigint NOT NULL,
  PRIMARY KEY (app_id, pushkey, user_id),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);

-- Notifications not yet accepted by the pusher's gateway: kept across restarts, retried with
-- backoff, deleted once the gateway answers 200 (or the pusher is gone).
CREATE TABLE push_deliveries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id         text NOT NULL,
  app_id          text NOT NULL,
  pushkey         text NOT NULL,
  event_id        text NOT NULL,
  room_id         text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_ts bigint NOT NULL,
  last_error      text,
  UNIQUE (app_id, pushkey, user_id, event_id),
  FOREIGN KEY (app_id, pushkey, user_id) REFERENCES pushers (app_id, pushkey, user_id) ON DELETE CASCADE
);
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_ts);
