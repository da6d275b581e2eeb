CREATE TABLE cameras (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    site            text NOT NULL DEFAULT '',
    location        text NOT NULL DEFAULT '',
    stream_url      text NOT NULL,
    -- AES-GCM sealed JSON {username, password}; '' when the camera has none.
    credentials     text NOT NULL DEFAULT '',
    direction       text NOT NULL DEFAULT 'both' CHECK (direction IN ('entry', 'exit', 'both')),
    fps             double precision NOT NULL DEFAULT 1 CHECK (fps > 0 AND fps <= 30),
    timezone        text NOT NULL DEFAULT 'UTC',
    tags            text[] NOT NULL DEFAULT '{}',
    state           text NOT NULL DEFAULT 'inactive' CHECK (state IN ('active', 'inactive', 'maintenance')),
    health          text NOT NULL DEFAULT 'unknown' CHECK (health IN ('online', 'offline', 'unknown', 'error')),
    last_seen_at    timestamptz,
    last_checked_at timestamptz,
    last_error      text NOT NULL DEFAULT '',
    stream_codec    text NOT NULL DEFAULT '',
    stream_width    integer NOT NULL DEFAULT 0,
    stream_height   integer NOT NULL DEFAULT 0,
    stream_fps      double precision NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE UNIQUE INDEX cameras_name_key ON cameras (lower(name));

--bun:split

CREATE INDEX cameras_created_idx ON cameras (created_at, id);

--bun:split

CREATE INDEX cameras_name_sort_idx ON cameras (lower(name), id);

--bun:split

CREATE INDEX cameras_state_idx ON cameras (state, health);

--bun:split

CREATE INDEX cameras_site_idx ON cameras (site);

--bun:split

-- Health and state changes of cameras, for alerts and live updates.
CREATE TABLE camera_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera_id   uuid NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('health', 'state')),
    from_value  text NOT NULL,
    to_value    text NOT NULL,
    message     text NOT NULL DEFAULT ''
);

--bun:split

CREATE INDEX camera_events_camera_idx ON camera_events (camera_id, occurred_at DESC, id DESC);

--bun:split

CREATE INDEX camera_events_time_idx ON camera_events (occurred_at DESC, id DESC);
