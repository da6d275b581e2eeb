-- Detections and pipeline events become RANGE partitions by time, one per
-- UTC day (named <table>_pYYYYMMDD), so retiring a day is a DROP TABLE
-- instead of a DELETE of millions of rows. store/partitions.go keeps the
-- partitions of yesterday .. today+N in place and retires expired days; a
-- DEFAULT partition holds any row outside the created days (rows older than
-- the window made here, or written while no partition existed yet) and is
-- purged with batched DELETEs.
--
-- A primary key or unique index of a partitioned table must include the
-- partition key: the keys become (id, detected_at) and (id, occurred_at).
-- Nothing has a foreign key into detections: attendance_logs.detection_id
-- is a plain unique column (a detection logs once), never a reference, so a
-- check-in outlives its detection's retirement. The unique dedupe_key index
-- of pipeline events becomes a plain index; RecordFrame checks it under an
-- advisory lock instead.
--
-- Existing rows are copied into the new tables: partitions are created for
-- the 31 days before today (the default retention) through today+7, older
-- rows land in DEFAULT.
ALTER TABLE detections RENAME TO detections_unpartitioned;

--bun:split

ALTER TABLE detections_unpartitioned RENAME CONSTRAINT detections_pkey TO detections_unpartitioned_pkey;

--bun:split

-- Dropped so that the new table's constraints keep their names.
ALTER TABLE detections_unpartitioned DROP CONSTRAINT detections_camera_id_fkey, DROP CONSTRAINT detections_face_profile_id_fkey,
    DROP CONSTRAINT detections_source_check;

--bun:split

DROP INDEX detections_time_idx, detections_camera_idx, detections_profile_idx;

--bun:split

CREATE TABLE detections (
    id                   uuid NOT NULL,
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
    source               text NOT NULL CHECK (source IN ('stream', 'send-frame')),
    PRIMARY KEY (id, detected_at)
) PARTITION BY RANGE (detected_at);

--bun:split

CREATE TABLE detections_default PARTITION OF detections DEFAULT;

--bun:split

ALTER TABLE detection_event_logs RENAME TO detection_event_logs_unpartitioned;

--bun:split

ALTER TABLE detection_event_logs_unpartitioned RENAME CONSTRAINT detection_event_logs_pkey TO detection_event_logs_unpartitioned_pkey;

--bun:split

ALTER TABLE detection_event_logs_unpartitioned DROP CONSTRAINT detection_event_logs_camera_id_fkey, DROP CONSTRAINT detection_event_logs_level_check;

--bun:split

ALTER SEQUENCE detection_event_logs_id_seq RENAME TO detection_event_logs_unpartitioned_id_seq;

--bun:split

DROP INDEX detection_event_logs_time_idx, detection_event_logs_camera_idx, detection_event_logs_dedupe_key;

--bun:split

CREATE TABLE detection_event_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    camera_id   uuid REFERENCES cameras (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    level       text NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message     text NOT NULL,
    details     jsonb,
    dedupe_key  text,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

--bun:split

CREATE TABLE detection_event_logs_default PARTITION OF detection_event_logs DEFAULT;

--bun:split

DO $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    d date;
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['detections', 'detection_event_logs'] LOOP
        FOR d IN SELECT generate_series(today - 31, today + 7, interval '1 day')::date LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                t || '_p' || to_char(d, 'YYYYMMDD'), t,
                d::text || ' 00:00:00+00', (d + 1)::text || ' 00:00:00+00');
        END LOOP;
    END LOOP;
END
$$;

--bun:split

INSERT INTO detections SELECT id, detected_at, camera_id, face_profile_id, known, similarity, detection_confidence,
    box_x, box_y, box_width, box_height, snapshot_key, source FROM detections_unpartitioned;

--bun:split

INSERT INTO detection_event_logs (id, occurred_at, camera_id, kind, level, message, details, dedupe_key) OVERRIDING SYSTEM VALUE
    SELECT id, occurred_at, camera_id, kind, level, message, details, dedupe_key FROM detection_event_logs_unpartitioned;

--bun:split

SELECT setval(pg_get_serial_sequence('detection_event_logs', 'id'),
    greatest((SELECT max(id) FROM detection_event_logs_unpartitioned), 0) + 1, false);

--bun:split

DROP TABLE detections_unpartitioned;

--bun:split

DROP TABLE detection_event_logs_unpartitioned;

--bun:split

CREATE INDEX detections_time_idx ON detections (detected_at DESC, id DESC);

--bun:split

CREATE INDEX detections_camera_idx ON detections (camera_id, detected_at DESC);

--bun:split

CREATE INDEX detections_profile_idx ON detections (face_profile_id, detected_at DESC) WHERE face_profile_id IS NOT NULL;

--bun:split

CREATE INDEX detection_event_logs_time_idx ON detection_event_logs (occurred_at DESC, id DESC);

--bun:split

CREATE INDEX detection_event_logs_camera_idx ON detection_event_logs (camera_id, occurred_at DESC, id DESC);

--bun:split

CREATE INDEX detection_event_logs_dedupe_idx ON detection_event_logs (dedupe_key) WHERE dedupe_key IS NOT NULL;

--bun:split

-- Retiring a day reads the snapshot keys of its rows: this index holds only
-- rows with a frame (none while ROLLCALL_DETECTION_SNAPSHOTS is off), so the
-- read costs what there is to delete.
CREATE INDEX detections_snapshot_idx ON detections (detected_at, id) WHERE snapshot_key <> '';
