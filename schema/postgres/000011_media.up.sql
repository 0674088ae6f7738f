-- The media repository: uploaded files, addressed by mxc://<server_name>/<media_id>.
-- The bytes live on disk under the media store, named by their sha256, so the same
-- file uploaded twice is stored once; these rows say which mxc URI names which bytes.

-- One row per mxc URI. A row made by POST /_matrix/media/v1/create has no content
-- yet (sha256 null) until its PUT arrives, and is unusable after unused_expires_ts.
CREATE TABLE media (
  server_name        text NOT NULL,
  media_id           text NOT NULL,
  user_id            text NOT NULL,          -- the uploader
  content_type       text,                   -- null while pending
  upload_name        text,                   -- the upload's filename, if it gave one
  size               bigint,                 -- null while pending
  sha256             text,                   -- hex; null while pending
  created_ts         bigint NOT NULL,        -- when the mxc URI was made
  uploaded_ts        bigint,                 -- when its content arrived: the legacy freeze compares this
  unused_expires_ts  bigint,                 -- pending only: when the unused URI lapses
  PRIMARY KEY (server_name, media_id),
  CHECK ((sha256 IS NULL) = (uploaded_ts IS NULL))
);

-- Counting a user's pending uploads (the spec asks for a limit on them).
CREATE INDEX media_pending_by_user ON media (user_id, unused_expires_ts) WHERE sha256 IS NULL;

-- Thumbnails made on demand, one per (media, size in the offered list, method,
-- type); width and height are the offered size, not the image's own dimensions.
CREATE TABLE media_thumbnails (
  server_name   text NOT NULL,
  media_id      text NOT NULL,
  width         integer NOT NULL,
  height        integer NOT NULL,
  method        text NOT NULL CHECK (method IN ('crop', 'scale')),
  content_type  text NOT NULL,
  size          bigint NOT NULL,
  sha256        text NOT NULL,
  created_ts    bigint NOT NULL,
  PRIMARY KEY (server_name, media_id, width, height, method, content_type),
  FOREIGN KEY (server_name, media_id) REFERENCES media (server_name, media_id) ON DELETE CASCADE
);
