-- One recognised or unknown face seen by a camera (or in a sent frame).
-- An erased person's detections stay, anonymised (face_profile_id NULL).
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

CREATE INDEX detections_time_idx ON detections (detected_at DESC, id DESC);

--bun:split

CREATE INDEX detections_camera_idx ON detections (camera_id, detected_at DESC);

--bun:split

CREATE INDEX detections_profile_idx ON detections (face_profile_id, detected_at DESC) WHERE face_profile_id IS NOT NULL;

--bun:split

-- Pipeline events: provider errors, dropped frames, reconnects, sent frames.
CREATE TABLE detection_event_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    camera_id   uuid REFERENCES cameras (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    level       text NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message     text NOT NULL,
    details     jsonb
);

--bun:split

CREATE INDEX detection_event_logs_time_idx ON detection_event_logs (occurred_at DESC, id DESC);

--bun:split

CREATE INDEX detection_event_logs_camera_idx ON detection_event_logs (camera_id, occurred_at DESC, id DESC);
