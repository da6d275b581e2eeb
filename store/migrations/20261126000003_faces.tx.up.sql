-- The active detection/recognition provider: one row.
CREATE TABLE detection_provider_configs (
    id                   smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    kind                 text NOT NULL DEFAULT 'builtin' CHECK (kind IN ('builtin', 'http', 'compreface', 'codeproject')),
    url                  text NOT NULL DEFAULT '',
    -- AES-GCM sealed API key; '' when none.
    api_key              text NOT NULL DEFAULT '',
    similarity_threshold double precision NOT NULL DEFAULT 0.78 CHECK (similarity_threshold BETWEEN 0 AND 1),
    detection_threshold  double precision NOT NULL DEFAULT 0.5 CHECK (detection_threshold BETWEEN 0 AND 1),
    timeout_ms           integer NOT NULL DEFAULT 10000 CHECK (timeout_ms BETWEEN 100 AND 120000),
    max_in_flight        integer NOT NULL DEFAULT 4 CHECK (max_in_flight BETWEEN 1 AND 64),
    health               text NOT NULL DEFAULT 'unknown' CHECK (health IN ('up', 'down', 'unknown')),
    health_error         text NOT NULL DEFAULT '',
    health_latency_ms    integer,
    health_checked_at    timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

--bun:split

INSERT INTO detection_provider_configs (id) VALUES (1);

--bun:split

CREATE TABLE face_profiles (
    id               uuid PRIMARY KEY,
    employee_code    text NOT NULL,
    name             text NOT NULL,
    department       text NOT NULL DEFAULT '',
    email            text NOT NULL DEFAULT '',
    odoo_employee_id integer,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'registering', 'active', 'failed', 'deleting')),
    status_message   text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE UNIQUE INDEX face_profiles_code_key ON face_profiles (lower(employee_code));

--bun:split

CREATE INDEX face_profiles_created_idx ON face_profiles (created_at, id);

--bun:split

CREATE INDEX face_profiles_status_idx ON face_profiles (status);

--bun:split

CREATE TABLE face_images (
    id                uuid PRIMARY KEY,
    profile_id        uuid NOT NULL REFERENCES face_profiles (id) ON DELETE CASCADE,
    object_key        text NOT NULL,
    content_type      text NOT NULL,
    size_bytes        integer NOT NULL,
    width             integer NOT NULL,
    height            integer NOT NULL,
    sha256            text NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'enrolled', 'failed', 'deleting')),
    provider_image_id text NOT NULL DEFAULT '',
    failure_reason    text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    enrolled_at       timestamptz
);

--bun:split

CREATE INDEX face_images_profile_idx ON face_images (profile_id, created_at);

--bun:split

CREATE UNIQUE INDEX face_images_content_key ON face_images (profile_id, sha256);
