-- Back to plain tables, rows kept. A dedupe key written twice while the
-- index was not unique keeps its first event.
ALTER TABLE detections RENAME TO detections_partitioned;

--bun:split

ALTER TABLE detections_partitioned RENAME CONSTRAINT detections_pkey TO detections_partitioned_pkey;

--bun:split

-- Dropped so that the new table's constraints keep their names.
ALTER TABLE detections_partitioned DROP CONSTRAINT detections_camera_id_fkey, DROP CONSTRAINT detections_face_profile_id_fkey,
    DROP CONSTRAINT detections_source_check;

--bun:split

DROP INDEX detections_time_idx, detections_camera_idx, detections_profile_idx;

--bun:split

CREATE TABLE detections (
    id                   uuid PRIMARY KEY,
    detected_at          timestamptz NOT NULL,
    camera_id            uuid REFERENCES cameras (id) ON DELETE SET NULL,
    face_profile_id      uuid REFERENCES face_profiles (id) ON DELETE SET NULL,
    known                boolean NOT NULL,
    similarity           double precision NOT NULL,
    detection_confidence double precision NOT NULL,
    box_x                integer NOT NULL,
    box_y                integer NOT NULL,
    box_width            integer NOT NULL,
    box_height           integer NOT NULL,
    snapshot_key         text NOT NULL DEFAULT '',
    source               text NOT NULL CHECK (source IN ('stream', 'send-frame'))
);

--bun:split

INSERT INTO detections SELECT id, detected_at, camera_id, face_profile_id, known, similarity, detection_confidence,
    box_x, box_y, box_width, box_height, snapshot_key, source FROM detections_partitioned ON CONFLICT (id) DO NOTHING;

--bun:split

DROP TABLE detections_partitioned;

--bun:split

CREATE INDEX detections_time_idx ON detections (detected_at DESC, id DESC);

--bun:split

CREATE INDEX detections_camera_idx ON detections (camera_id, detected_at DESC);

--bun:split

CREATE INDEX detections_profile_idx ON detections (face_profile_id, detected_at DESC) WHERE face_profile_id IS NOT NULL;

--bun:split

ALTER TABLE detection_event_logs RENAME TO detection_event_logs_partitioned;

--bun:split

ALTER TABLE detection_event_logs_partitioned RENAME CONSTRAINT detection_event_logs_pkey TO detection_event_logs_partitioned_pkey;

--bun:split

ALTER TABLE detection_event_logs_partitioned DROP CONSTRAINT detection_event_logs_camera_id_fkey, DROP CONSTRAINT detection_event_logs_level_check;

--bun:split

ALTER SEQUENCE detection_event_logs_id_seq RENAME TO detection_event_logs_partitioned_id_seq;

--bun:split

DROP INDEX detection_event_logs_time_idx, detection_event_logs_camera_idx, detection_event_logs_dedupe_idx;

--bun:split

CREATE TABLE detection_event_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    camera_id   uuid REFERENCES cameras (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    level       text NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message     text NOT NULL,
    details     jsonb,
    dedupe_key  text
);

--bun:split

CREATE UNIQUE INDEX detection_event_logs_dedupe_key ON detection_event_logs (dedupe_key) WHERE dedupe_key IS NOT NULL;

--bun:split

INSERT INTO detection_event_logs (id, occurred_at, camera_id, kind, level, message, details, dedupe_key) OVERRIDING SYSTEM VALUE
    SELECT id, occurred_at, camera_id, kind, level, message, details, dedupe_key FROM detection_event_logs_partitioned
    ORDER BY id ON CONFLICT DO NOTHING;

--bun:split

SELECT setval(pg_get_serial_sequence('detection_event_logs', 'id'),
    greatest((SELECT max(id) FROM detection_event_logs_partitioned), 0) + 1, false);

--bun:split

DROP TABLE detection_event_logs_partitioned;

--bun:split

CREATE INDEX detection_event_logs_time_idx ON detection_event_logs (occurred_at DESC, id DESC);

--bun:split

CREATE INDEX detection_event_logs_camera_idx ON detection_event_logs (camera_id, occurred_at DESC, id DESC);
