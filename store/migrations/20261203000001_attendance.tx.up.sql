-- Shift schedules: wall-clock start/end in a timezone, the weekdays a shift
-- starts on (0 = Sunday), grace and unpaid break. end <= start crosses midnight.
CREATE TABLE shift_schedules (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL,
    start_minute        integer NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute          integer NOT NULL CHECK (end_minute BETWEEN 0 AND 1439 AND end_minute <> start_minute),
    days                smallint[] NOT NULL CHECK (cardinality(days) BETWEEN 1 AND 7 AND days <@ ARRAY[0,1,2,3,4,5,6]::smallint[]),
    late_grace_minutes  integer NOT NULL DEFAULT 0 CHECK (late_grace_minutes BETWEEN 0 AND 720),
    early_grace_minutes integer NOT NULL DEFAULT 0 CHECK (early_grace_minutes BETWEEN 0 AND 720),
    break_minutes       integer NOT NULL DEFAULT 0 CHECK (break_minutes BETWEEN 0 AND 720),
    timezone            text NOT NULL DEFAULT 'UTC',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE UNIQUE INDEX shift_schedules_name_key ON shift_schedules (lower(name));

--bun:split

-- A shift assigned to one person or to a department; a person's own
-- assignment wins over their department's.
CREATE TABLE shift_assignments (
    id              uuid PRIMARY KEY,
    shift_id        uuid NOT NULL REFERENCES shift_schedules (id) ON DELETE CASCADE,
    face_profile_id uuid REFERENCES face_profiles (id) ON DELETE CASCADE,
    department      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((face_profile_id IS NULL) <> (department IS NULL))
);

--bun:split

CREATE UNIQUE INDEX shift_assignments_person_key ON shift_assignments (face_profile_id) WHERE face_profile_id IS NOT NULL;

--bun:split

CREATE UNIQUE INDEX shift_assignments_department_key ON shift_assignments (lower(department)) WHERE department IS NOT NULL;

--bun:split

-- One check-in or check-out. An erased person's logs stay for HR with
-- face_profile_id NULL and the employee code kept. Camera logs carry their
-- detection (unique: the same detection never logs twice).
CREATE TABLE attendance_logs (
    id                 uuid PRIMARY KEY,
    face_profile_id    uuid REFERENCES face_profiles (id) ON DELETE SET NULL,
    employee_code      text NOT NULL,
    department         text NOT NULL DEFAULT '',
    camera_id          uuid REFERENCES cameras (id) ON DELETE SET NULL,
    site               text NOT NULL DEFAULT '',
    logged_at          timestamptz NOT NULL,
    work_date          date NOT NULL,
    direction          text NOT NULL CHECK (direction IN ('in', 'out')),
    source             text NOT NULL CHECK (source IN ('camera', 'manual', 'import')),
    detection_id       uuid UNIQUE,
    similarity         double precision,
    snapshot_key       text NOT NULL DEFAULT '',
    reason             text NOT NULL DEFAULT '',
    created_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    deleted_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    delete_reason      text NOT NULL DEFAULT '',
    sync_state         text NOT NULL DEFAULT 'pending' CHECK (sync_state IN ('pending', 'synced', 'failed', 'skipped')),
    sync_error         text NOT NULL DEFAULT '',
    odoo_attendance_id bigint,
    synced_at          timestamptz
);

--bun:split

CREATE INDEX attendance_logs_time_idx ON attendance_logs (logged_at DESC, id DESC);

--bun:split

CREATE INDEX attendance_logs_person_idx ON attendance_logs (face_profile_id, logged_at DESC, id DESC);

--bun:split

CREATE INDEX attendance_logs_camera_idx ON attendance_logs (camera_id, logged_at DESC, id DESC);

--bun:split

CREATE INDEX attendance_logs_pending_idx ON attendance_logs (logged_at, id) WHERE sync_state IN ('pending', 'failed') AND deleted_at IS NULL;

--bun:split

-- A person's work day, rebuilt from their logs whenever one changes and
-- closed by the day-close run.
CREATE TABLE attendance_records (
    id               uuid PRIMARY KEY,
    face_profile_id  uuid REFERENCES face_profiles (id) ON DELETE SET NULL,
    employee_code    text NOT NULL,
    department       text NOT NULL DEFAULT '',
    site             text NOT NULL DEFAULT '',
    work_date        date NOT NULL,
    shift_id         uuid REFERENCES shift_schedules (id) ON DELETE SET NULL,
    first_in         timestamptz,
    last_out         timestamptz,
    worked_seconds   integer NOT NULL DEFAULT 0,
    break_seconds    integer NOT NULL DEFAULT 0,
    late_seconds     integer NOT NULL DEFAULT 0,
    early_seconds    integer NOT NULL DEFAULT 0,
    overtime_seconds integer NOT NULL DEFAULT 0,
    status           text NOT NULL CHECK (status IN ('present', 'late', 'early_leave', 'absent', 'incomplete', 'off')),
    open             boolean NOT NULL DEFAULT false,
    log_count        integer NOT NULL DEFAULT 0,
    closed           boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE UNIQUE INDEX attendance_records_person_day_key ON attendance_records (face_profile_id, work_date);

--bun:split

CREATE INDEX attendance_records_day_idx ON attendance_records (work_date DESC, id DESC);
